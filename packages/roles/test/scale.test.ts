/**
 * The planner at the benchmark's scale (100,000 members, 20 mappings): the plan is exactly the
 * drift the synthetic guild was built with. Correctness only; the time is measured in bench/.
 */
import { describe, expect, it } from "vitest";
import { applyPlan, isEmptyPlan, planReconciliation } from "../src";
import { syntheticGuild } from "../src/testing";

describe("planning 100,000 members and 20 mappings", () => {
  const { input, expected } = syntheticGuild({ members: 100_000, mappings: 20 });
  const plan = planReconciliation(input);

  it("changes exactly the drifted members, each with its drift, in one call", () => {
    expect(expected.size).toBe(5_000);
    expect(plan.members.length).toBe(expected.size);
    expect(plan.blocked).toEqual([]);
    expect(plan.groups).toEqual([]);
    for (const m of plan.members) {
      const want = expected.get(m.userId);
      expect(want).toBeDefined();
      expect({ add: m.add, remove: m.remove }).toEqual(want);
      expect(m.action.kind).toBe(m.add.length + m.remove.length === 1 ? (m.add.length === 1 ? "add-role" : "remove-role") : "patch");
    }
    expect(plan.members.filter((m) => m.action.kind === "patch").length).toBeGreaterThan(0);
  });

  it("keeps every unmapped and managed role in the full role lists", () => {
    const mapped = new Set(input.desired.mappings.map((m) => m.roleId));
    for (const m of plan.members) {
      expect(m.roles.filter((id) => !mapped.has(id))).toEqual(m.before.filter((id) => !mapped.has(id)));
    }
  });

  it("leaves nothing to do once applied", () => {
    expect(isEmptyPlan(planReconciliation(applyPlan(input, plan, 1)))).toBe(true);
  });
});
