/** The top bar: brand, organization, page navigation, and the signed-in user's menu. */
import { Link } from "@tanstack/react-router";
import type { Me } from "../lib/types";
import { Logo } from "./Logo";
import { RemovedIntegrationsBanner } from "./RemovedIntegrationsBanner";
import { UserMenu } from "./UserMenu";

/**
 * Header for signed-in pages, with the staff pages' navigation (Roster · Members · Sync history · Roles · Integrations,
 * and Jobs, Notifications and API tokens for admins; shown to staff only, the current page marked with `aria-current="page"`) and the user menu
 * (who is signed in, sign out). Admins also get, under the bar, the notice that the bot was removed
 * from one of the organization's guilds ({@link RemovedIntegrationsBanner}).
 *
 * Layout: one row on wide screens (brand, links, user). Below 1440 px it becomes two rows, the
 * brand and the user menu above and the links below, where they wrap onto a further line
 * rather than overlap anything; so the bar holds more links (a page added later is one more
 * `Link` here). On a phone the organization's name stands for the brand (the logo says
 * Guildhall) and wraps to two lines before it is cut. Test hooks: `org-name`, `nav-<page>`.
 */
export function AppHeader({ me }: { me: Me }) {
  return (
    <header className="topbar">
      <div className="topbar-inner">
        <div className={`brand${me.staff ? " brand-has-org" : ""}`}>
          <Logo size={26} />
          <span className="brand-name">Guildhall</span>
          {me.staff ? (
            <>
              <span className="brand-sep" aria-hidden="true">
                /
              </span>
              <span className="org-name" data-testid="org-name" title={me.staff.organizationName}>
                {me.staff.organizationName}
              </span>
            </>
          ) : null}
        </div>
        {me.staff ? (
          <nav className="nav" aria-label="Pages">
            <Link to="/roster" className="nav-link" activeOptions={{ exact: true }} data-testid="nav-roster">
              Roster
            </Link>
            <Link to="/members" className="nav-link" activeOptions={{ exact: true, includeSearch: false }} data-testid="nav-members">
              Members
            </Link>
            <Link to="/members/history" className="nav-link" activeOptions={{ exact: true }} data-testid="nav-sync-history">
              Sync history
            </Link>
            <Link to="/roles" className="nav-link" activeOptions={{ exact: true }} data-testid="nav-roles">
              Roles
            </Link>
            <Link to="/integrations" className="nav-link" activeOptions={{ includeSearch: false }} data-testid="nav-integrations">
              Integrations
            </Link>
            {me.staff.role === "admin" ? (
              <Link to="/jobs" className="nav-link" activeOptions={{ includeSearch: false }} data-testid="nav-jobs">
                Jobs
              </Link>
            ) : null}
            {me.staff.role === "admin" ? (
              <Link to="/notifications" className="nav-link" data-testid="nav-notifications">
                Notifications
              </Link>
            ) : null}
            {me.staff.role === "admin" ? (
              <Link to="/tokens" className="nav-link" activeOptions={{ exact: true }} data-testid="nav-tokens">
                API tokens
              </Link>
            ) : null}
          </nav>
        ) : null}
        <UserMenu me={me} />
      </div>
      {me.staff?.role === "admin" ? <RemovedIntegrationsBanner /> : null}
    </header>
  );
}
