import type { Stats } from "../api";
import { Time } from "../components";
import { ageText, plural } from "../format";

/**
 * How events reach the site (setting siteDelivery), and in pull mode how far the site has read the
 * feed: its last cursor (the feed position and the event it named, and when it read) and its lag,
 * in events and in time.
 */
export function SiteDelivery({ delivery }: { delivery: Stats["siteDelivery"] }) {
  const { mode, feed, tokenSet } = delivery;
  const read = feed.lastRead;
  const pull = mode === "pull";
  return (
    <section id="site-delivery" aria-labelledby="site-delivery-h" data-mode={mode}>
      <h3 id="site-delivery-h">{pull ? "Delivery: the site pulls the feed" : "Delivery: pushed to the site"}</h3>
      <ul>
        {pull && !tokenSet ? (
          <li class="alert" id="site-feed-no-token">
            <code>SITE_API_TOKEN</code> is not set: the feed refuses the site. Set it with <code>wrangler secret put SITE_API_TOKEN</code>.
          </li>
        ) : null}
        <li id="site-feed-cursor">
          {read ? (
            <>
              {`Last cursor: position ${read.position}${read.eventId ? ` (${read.eventId})` : " (the start of the feed)"}, read `}
              <Time iso={read.at} />
            </>
          ) : (
            "The site has not read the feed yet."
          )}
        </li>
        <li id="site-feed-lag" class={pull && feed.lag.seconds > 300 ? "alert" : ""}>
          {feed.lag.events === 0
            ? "Lag: none, the site has every published event."
            : `Lag: ${plural(feed.lag.events, "event", "events")} after its cursor, the oldest published ${ageText(feed.lag.seconds)} ago.`}
        </li>
      </ul>
      <p class="hint">
        {pull
          ? `The feed holds positions ${feed.floor + 1} to ${feed.head}. An event is delivered once the site reads past it; nothing is POSTed.`
          : "Events are POSTed to MAIN_SITE_URL. A site that cannot receive them reads the feed instead: set SITE_API_TOKEN and choose Pull in the settings."}
      </p>
    </section>
  );
}
