import { assert, assertEquals, assertNotEquals, assertStringIncludes } from "@std/assert";
import { accuracyChart } from "../../plots/accuracy.ts";
import { dynamicsChart, pcaChart } from "../../plots/dynamics.ts";
import { chartGrid, escapeXml, lineChart, logTicks, niceTicks } from "../../plots/svg.ts";
import { bar, sparkline } from "../../plots/terminal.ts";
import { xmlProblem } from "../xml_check.ts";
import type { DynamicsResult } from "../../eval/dynamics.ts";

const point = (depth: number, accuracy: number) => ({
  depth,
  accuracy,
  low: Math.max(0, accuracy - 0.1),
  high: Math.min(1, accuracy + 0.1),
});

Deno.test("the XML check catches what it should", () => {
  assertEquals(xmlProblem(`<svg a="1"><g><text>a &amp; b</text></g></svg>`), null);
  for (
    const bad of [
      "<svg><g></svg>",
      "<svg a=1/>",
      "<svg>&nbsp;</svg>",
      "<a/><b/>",
      '<a x="1" x="2"/>',
      "<svg>",
      "text",
    ]
  ) assert(xmlProblem(bad) !== null, bad);
});

Deno.test("accuracy chart: valid SVG, one series per run, training depths, log axis", () => {
  const svg = accuracyChart([
    {
      name: "fixed <4>",
      trainLoops: 4,
      points: [1, 2, 4, 8, 100].map((d) => point(d, d === 4 ? 1 : 0.1)),
    },
    {
      name: "stars & co",
      trainLoops: 8,
      points: [1, 2, 4, 8, 100].map((d) => point(d, 0.5)),
      exits: [{ rule: "kl:0.001", accuracy: 0.6, meanLoops: 7.5 }],
    },
  ]);
  assertEquals(xmlProblem(svg), null);
  const names = [...svg.matchAll(/<g class="series" data-name="([^"]*)"/g)].map((m) => m[1]);
  assertEquals(names, ["fixed &lt;4&gt;", "stars &amp; co", "stars &amp; co: exit rules"]);
  assertEquals(svg.match(/<polyline /g)?.length, 2); // one line per checkpoint
  assertEquals(svg.match(/<polygon /g)?.length, 2); // one Wilson band each
  assertStringIncludes(svg, "train 4 (1)");
  assertStringIncludes(svg, "train 8 (2)");
  assertStringIncludes(svg, "log scale");
  assertStringIncludes(svg, ">kl:0.001<");
  for (const tick of [">1<", ">10<", ">100<"]) assertStringIncludes(svg, tick);
});

Deno.test("log ticks, nice ticks, escaping, terminal charts", () => {
  assertEquals(logTicks(1, 100), [1, 2, 5, 10, 20, 50, 100]);
  assertEquals(logTicks(1e-7, 1), [1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1]);
  assertEquals(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assertEquals(niceTicks(0, 32, 5), [0, 10, 20, 30]);
  assertEquals(escapeXml(`<a & "b">`), "&lt;a &amp; &quot;b&quot;&gt;");
  assertEquals(sparkline([0, 0.5, 1]), "▁▅█");
  assertEquals(sparkline([1, null, 1]), "▁ ▁");
  assertEquals(bar(0.5, 10), "█████");
  assertEquals(bar(1 / 16, 2), "▏");
  assertEquals(bar(2, 3), "███");
});

Deno.test("dynamics, PCA and grid charts are valid SVG", () => {
  const points = Array.from({ length: 9 }, (_, t) => ({
    loop: t,
    stateNorm: 5,
    step: t ? 0.5 ** t : null,
    relStep: t ? 0.1 * 0.5 ** t : null,
    rho: t % 4 === 0 ? 0.8 : null,
    rhoConverged: t % 4 === 0 ? true : null,
    entropy: 1 / (t + 1),
    kl: t ? 0.01 * 0.3 ** t : null,
    accuracy: Math.min(1, t / 4),
  }));
  const result: DynamicsResult = {
    points,
    pcaPosition: 6,
    rows: 2,
    pca: {
      coords: Array.from({ length: 18 }, (_, i) => [Math.cos(i), Math.sin(i)] as [number, number]),
      explained: [0.6, 0.3],
    },
  };
  const dyn = dynamicsChart(result, { trainLoops: 4 });
  assertEquals(xmlProblem(dyn), null);
  assertEquals(dyn.match(/<svg /g)?.length, 7); // the grid and six panels
  assertEquals(new Set(dyn.match(/id="plot-area-\d+"/g)).size, 6); // clip ids do not collide
  const pca = pcaChart(result, 10, "PCA", ["12+34=46", "1+1=2"]);
  assertEquals(xmlProblem(pca), null);
  assertStringIncludes(pca, "12+34=46");
  assertEquals(pca.match(/<polyline /g)?.length, 2);
  const grid = chartGrid(
    [lineChart({ x: { label: "x" }, y: { label: "y" }, series: [] })],
    1,
    640,
    400,
  );
  assertEquals(xmlProblem(grid), null);
});

Deno.test("the ./plots entry point loads no npm package (no tfjs), so drawing saved results is cheap", async () => {
  const run = (path: string) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-npm", new URL(path, import.meta.url).pathname],
      stdout: "null",
      stderr: "piped",
    }).output();
  const plots = await run("../../plots/mod.ts");
  assertEquals(plots.code, 0, new TextDecoder().decode(plots.stderr));
  // The check can fail: the library's entry point does load tfjs.
  const lib = await run("../../mod.ts");
  assertNotEquals(lib.code, 0);
});
