import { assertEquals } from "@std/assert";
import { formatDuration } from "../cli/progress.ts";

Deno.test("progress: durations as the ETA shows them", () => {
  assertEquals(
    [0, 42.4, 59.6, 185, 3600, 3725].map(formatDuration),
    ["0s", "42s", "1m00s", "3m05s", "1h00m", "1h02m"],
  );
});
