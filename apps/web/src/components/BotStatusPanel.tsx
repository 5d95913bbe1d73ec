/** The bot's health: running or not, ping, shards, last gateway event, guild, dead letters. */
import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { BOT_STATUS_REFETCH_MS } from "../lib/queries";
import { secondsAgo, useNow } from "../lib/time";
import { trpc } from "../lib/trpc";

/** The Jobs page's queue of the bot's dead letters (`bot.dead-letters` in @guildhall/jobs). */
const DEAD_LETTER_QUEUE = "bot.dead-letters";

/**
 * `bot.status`, refetched every 10 s. `data-running` ("true" | "false") on the panel is a
 * stable test hook; it is "false" until the first answer arrives. Dead letters (updates the
 * server refused, kept as jobs) show as a count (`data-testid="dead-letters"`, `data-count`)
 * linking to their queue on the Jobs page (admins retry or discard them there).
 */
export function BotStatusPanel() {
  const status = useQuery(trpc.bot.status.queryOptions(undefined, { refetchInterval: BOT_STATUS_REFETCH_MS }));
  const now = useNow(1_000);
  const data = status.data;
  const running = data?.isRunning ?? false;

  return (
    <section className="card bot" data-testid="bot-status" data-running={String(running)} aria-labelledby="bot-title">
      <div className="card-header">
        <h2 className="card-title" id="bot-title">
          Bot
        </h2>
        {data ? (
          <span className={`pill ${running ? "pill-ok" : "pill-bad"}`}>
            <span className="dot" aria-hidden="true" />
            {running ? "Running" : data.fatal ? "Stopped" : "Not running"}
          </span>
        ) : null}
      </div>
      {status.isPending ? (
        <p className="muted small">Loading bot status…</p>
      ) : status.isError && !data ? (
        <p className="error small" role="alert">
          Could not load the bot's status.
        </p>
      ) : data ? (
        <>
          {data.fatal ? (
            // A close no reconnect fixes (bad token, disallowed intents): say what to do.
            <p className="error small" role="alert" data-testid="bot-fatal" data-close-code={data.fatal.code}>
              Discord closed the bot's connection for good ({data.fatal.code}): {data.fatal.reason}.
            </p>
          ) : null}
          <dl className="facts">
            <div>
              <dt>Ping</dt>
              <dd>{data.pingMs === null ? <span className="muted">—</span> : `${data.pingMs} ms`}</dd>
            </div>
            <div>
              <dt>Last event</dt>
              <dd>
                {data.lastEventAt ? (
                  <time dateTime={data.lastEventAt} title={new Date(data.lastEventAt).toLocaleString()}>
                    {secondsAgo(data.lastEventAt, now)}
                  </time>
                ) : (
                  <span className="muted">None yet</span>
                )}
              </dd>
            </div>
            <div className="wide">
              <dt>Guild</dt>
              <dd className="mono">{data.guildId ?? <span className="muted">—</span>}</dd>
            </div>
            <div className="wide">
              <dt>Dead letters</dt>
              <dd data-testid="dead-letters" data-count={data.deadLetters.total}>
                {data.deadLetters.total === 0 ? (
                  <span className="muted">None</span>
                ) : (
                  <Link
                    to="/jobs"
                    search={{ queue: DEAD_LETTER_QUEUE, state: "dead" }}
                    className="error"
                    title={data.deadLetters.recent[0] ? `Newest: ${data.deadLetters.recent[0].summary}` : undefined}
                  >
                    {data.deadLetters.total === 1 ? "1 update refused" : `${data.deadLetters.total} updates refused`}, on the Jobs page
                  </Link>
                )}
              </dd>
            </div>
          </dl>
          <h3 className="subhead">Shards</h3>
          {data.shards.length === 0 ? (
            <p className="muted small">No shard has reported in the last 10 minutes.</p>
          ) : (
            <ul className="shards">
              {data.shards.map((shard) => {
                const healthy = shard.fresh && shard.connected;
                return (
                  <li key={shard.shardId} className="shard" data-shard-id={shard.shardId}>
                    <span className={`dot ${healthy ? "dot-online" : shard.fresh ? "dot-idle" : "dot-offline"}`} aria-hidden="true" />
                    <span className="shard-name">
                      Shard {shard.shardId + 1}/{shard.shardCount}
                    </span>
                    <span className="shard-status">{shard.status}</span>
                    <span className="muted">{shard.pingMs === null ? "—" : `${shard.pingMs} ms`}</span>
                    {!shard.fresh ? <span className="muted small">stale</span> : null}
                  </li>
                );
              })}
            </ul>
          )}
        </>
      ) : null}
    </section>
  );
}
