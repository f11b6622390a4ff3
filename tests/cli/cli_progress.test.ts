import { assertEquals } from "@std/assert";
import { formatDuration, sweepWork } from "../../cli/progress.ts";

Deno.test("progress: durations as the ETA shows them", () => {
  assertEquals(
    [0, 42.4, 59.6, 185, 3600, 3725].map(formatDuration),
    ["0s", "42s", "1m00s", "3m05s", "1h00m", "1h02m"],
  );
});

Deno.test("progress: a sweep's work weighs each loop count by its loops", () => {
  // 10 problems at 1 and 4 loops: 10 * (2 + 5); two exit rules at 8: 2 * 10 * 9.
  assertEquals(sweepWork({ grid: [1, 4], problems: 10 }), 70);
  assertEquals(sweepWork({ grid: [1, 4], problems: 10, exitRules: 2, exitMax: 8 }), 250);
});
