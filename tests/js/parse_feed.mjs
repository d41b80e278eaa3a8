// Parse a podcast feed with podcast-partytime (a parser that knows Podcasting 2.0) and
// print what it found as JSON, for tests/test_feeds_clients.py.
// Usage: node parse_feed.mjs FEED.xml
import { readFileSync } from "node:fs";
import partytime from "podcast-partytime";

const xml = readFileSync(process.argv[2], "utf8");
const feed = partytime.parseFeed(xml, { allowMissingGuid: false });
if (!feed) {
  console.error("podcast-partytime could not parse the feed");
  process.exit(1);
}
process.stdout.write(JSON.stringify(feed));
