import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertNotEquals,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import {
  describeLoopSpec,
  expectedLoops,
  type LoopDraw,
  loopPmf,
  type LoopSpec,
  sampleLoops,
  validateLoopSpec,
} from "../../regularizers/loop_sampler.ts";
import { logGamma, normalCdf, poissonPmf } from "../../regularizers/distributions.ts";

const STEPS = 20_000;
const SEED = 1;

function draws(spec: LoopSpec, seed = SEED, steps = STEPS): LoopDraw[] {
  return Array.from(
    { length: steps },
    (_, step) => sampleLoops(spec, seed, step),
  );
}

/** Mean, variance and fourth central moment of `xs`. */
function sampleMoments(xs: number[]): { mean: number; variance: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) /
    (xs.length - 1);
  return { mean, variance };
}

/** Exact mean, variance and fourth central moment of a pmf over n. */
function pmfMoments(
  pmf: number[],
): { mean: number; variance: number; mu4: number } {
  const mean = pmf.reduce((a, p, n) => a + n * p, 0);
  const variance = pmf.reduce((a, p, n) => a + p * (n - mean) ** 2, 0);
  const mu4 = pmf.reduce((a, p, n) => a + p * (n - mean) ** 4, 0);
  return { mean, variance, mu4 };
}

/**
 * Checks the sample mean and variance of `xs` against exact moments within
 * `z` standard errors (SE of the mean sqrt(var/n); of the variance
 * sqrt((mu4 - var^2)/n)).
 */
function assertMoments(
  xs: number[],
  exact: { mean: number; variance: number; mu4: number },
  label: string,
  z = 5,
): void {
  const n = xs.length;
  const { mean, variance } = sampleMoments(xs);
  const seMean = Math.sqrt(exact.variance / n);
  const seVar = Math.sqrt(Math.max(exact.mu4 - exact.variance ** 2, 0) / n);
  assert(
    Math.abs(mean - exact.mean) <= z * seMean,
    `${label}: sample mean ${mean} vs exact ${exact.mean} (SE ${seMean})`,
  );
  assert(
    Math.abs(variance - exact.variance) <= z * seVar,
    `${label}: sample variance ${variance} vs exact ${exact.variance} (SE ${seVar})`,
  );
}

function totals(spec: LoopSpec, seed = SEED): number[] {
  return draws(spec, seed).map((d) => d.total);
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

Deno.test("helpers: logGamma, poissonPmf and normalCdf match known values", () => {
  assertAlmostEquals(Math.exp(logGamma(5)), 24, 1e-10);
  assertAlmostEquals(logGamma(101), 363.73937555556347, 1e-9);
  assertAlmostEquals(Math.exp(logGamma(0.5)), Math.sqrt(Math.PI), 1e-12);
  assertAlmostEquals(poissonPmf(3, 2), 8 * Math.exp(-2) / 6, 1e-15);
  assertAlmostEquals(
    sum(Array.from({ length: 400 }, (_, k) => poissonPmf(k, 150))),
    1,
    1e-12,
  );
  assertEquals(normalCdf(0), 0.5);
  assertAlmostEquals(normalCdf(1.959963984540054), 0.975, 1e-13);
  assertAlmostEquals(normalCdf(-3), 0.0013498980316301, 1e-15);
  assertAlmostEquals(normalCdf(1) + normalCdf(-1), 1, 1e-15);
});

Deno.test("fixed: always n, all with gradient", () => {
  const spec: LoopSpec = { kind: "fixed", n: 4 };
  for (const d of draws(spec, SEED, 1000)) {
    assertEquals(d, { total: 4, noGrad: 0, withGrad: 4 });
  }
  assertEquals(expectedLoops(spec), 4);
  assertEquals(loopPmf(spec), [0, 0, 0, 0, 1]);
});

Deno.test("uniform: every value in [min, max], mean (min+max)/2, variance ((max-min+1)^2-1)/12", () => {
  for (const [min, max] of [[1, 100], [3, 8]]) {
    const spec: LoopSpec = { kind: "uniform", min, max };
    const xs = totals(spec);
    assert(xs.every((x) => Number.isInteger(x) && x >= min && x <= max));
    assertEquals(new Set(xs).size, max - min + 1, "every value drawn");
    const m = max - min + 1;
    const exact = pmfMoments(loopPmf(spec));
    assertAlmostEquals(exact.mean, (min + max) / 2, 1e-9);
    assertAlmostEquals(exact.variance, (m * m - 1) / 12, 1e-9);
    assertEquals(expectedLoops(spec), (min + max) / 2);
    assertMoments(xs, exact, `uniform[${min},${max}]`);
  }
});

Deno.test("poisson: mean and variance lambda with the clip far away (Knuth and PTRS paths)", () => {
  for (const lambda of [9, 10, 50, 1000]) {
    const spec: LoopSpec = { kind: "poisson", lambda, min: 1, max: 100_000 };
    const exact = pmfMoments(loopPmf(spec));
    // The clip at 1 only moves P(K = 0) = e^-lambda of mass.
    assertAlmostEquals(exact.mean, lambda, 2e-4);
    assertAlmostEquals(exact.variance, lambda, 3e-3);
    assertAlmostEquals(expectedLoops(spec), lambda, 2e-4);
    // Fourth central moment of Poisson: lambda (1 + 3 lambda).
    assertMoments(totals(spec), {
      mean: lambda,
      variance: lambda,
      mu4: lambda * (1 + 3 * lambda),
    }, `poisson(${lambda})`);
  }
});

Deno.test("poisson: clipped draws follow the clipped pmf (lambda=5, [1, 100] and [3, 7])", () => {
  for (const [min, max] of [[1, 100], [3, 7]]) {
    const spec: LoopSpec = { kind: "poisson", lambda: 5, min, max };
    const pmf = loopPmf(spec);
    assertAlmostEquals(sum(pmf), 1, 1e-12);
    // P(N = min) = P(K <= min), P(N = max) = P(K >= max).
    const cdf = (k: number) => sum(Array.from({ length: k + 1 }, (_, i) => poissonPmf(i, 5)));
    assertAlmostEquals(pmf[min], cdf(min), 1e-12);
    if (max < 100) assertAlmostEquals(pmf[max], 1 - cdf(max - 1), 1e-12);
    const xs = totals(spec);
    assert(xs.every((x) => x >= min && x <= max));
    assertMoments(xs, pmfMoments(pmf), `poisson(5) clipped [${min},${max}]`);
  }
});

Deno.test("lognormal (STARS: mu=2, sigma=0.7, [1, 100]): mean ≈ 9.4 and P(N > 20) ≈ 7%", () => {
  const spec: LoopSpec = {
    kind: "lognormal",
    mu: 2,
    sigma: 0.7,
    min: 1,
    max: 100,
  };
  const pmf = loopPmf(spec);
  assertAlmostEquals(sum(pmf), 1, 1e-12);
  const mean = expectedLoops(spec);
  assert(mean > 9.3 && mean < 9.5, `E[N] = ${mean}`);
  // P(N > 20) = P(X >= 20.5) = 1 - Phi((log 20.5 - 2) / 0.7), computed directly.
  const pOver20 = 1 - normalCdf((Math.log(20.5) - 2) / 0.7);
  assertAlmostEquals(sum(pmf.slice(21)), pOver20, 1e-12);
  assert(pOver20 > 0.065 && pOver20 < 0.08, `P(N > 20) = ${pOver20}`);

  const xs = totals(spec);
  assert(xs.every((x) => Number.isInteger(x) && x >= 1 && x <= 100));
  const exact = pmfMoments(pmf);
  assertAlmostEquals(exact.mean, mean, 1e-12);
  assertMoments(xs, exact, "lognormal(2, 0.7)");
  const frac = xs.filter((x) => x > 20).length / xs.length;
  const se = Math.sqrt(pOver20 * (1 - pOver20) / xs.length);
  assert(
    Math.abs(frac - pOver20) <= 5 * se,
    `sample P(N > 20) = ${frac} vs ${pOver20}`,
  );
  assert(
    draws(spec, SEED, 100).every((d) => d.noGrad === 0 && d.withGrad === d.total),
  );
});

Deno.test("lognormal: clip bounds hold and carry the tail mass", () => {
  const spec: LoopSpec = {
    kind: "lognormal",
    mu: 2,
    sigma: 0.7,
    min: 4,
    max: 12,
  };
  const pmf = loopPmf(spec);
  assertAlmostEquals(pmf[4], normalCdf((Math.log(4.5) - 2) / 0.7), 1e-12);
  assertAlmostEquals(pmf[12], 1 - normalCdf((Math.log(11.5) - 2) / 0.7), 1e-12);
  const xs = totals(spec);
  assert(xs.every((x) => x >= 4 && x <= 12));
  assertMoments(xs, pmfMoments(pmf), "lognormal clipped [4,12]");
});

Deno.test("poisson_lognormal (Huginn): mean r + 1, variance r + r^2 (e^{s^2} - 1)", () => {
  for (const [r, s] of [[32, 0.5], [4, 0.5], [10, 1]]) {
    const spec: LoopSpec = {
      kind: "poisson_lognormal",
      mean: r,
      sigma: s,
      backprop: 8,
    };
    assertEquals(expectedLoops(spec), r + 1);
    // N - 1 is Poisson(tau): E = E[tau] = r, Var = E[tau] + Var[tau].
    const variance = r + r * r * Math.expm1(s * s);
    const exact = pmfMoments(loopPmf(spec));
    assertAlmostEquals(exact.mean, r + 1, 1e-6 * r);
    assertAlmostEquals(exact.variance, variance, 1e-5 * variance);
    assertMoments(totals(spec), exact, `huginn(r=${r}, s=${s})`);
  }
});

Deno.test("poisson_lognormal: sigma defaults to 0.5", () => {
  const a = draws({ kind: "poisson_lognormal", mean: 32, backprop: 8 }, 3, 200);
  const b = draws(
    { kind: "poisson_lognormal", mean: 32, sigma: 0.5, backprop: 8 },
    3,
    200,
  );
  assertEquals(a, b);
});

Deno.test("poisson_lognormal: noGrad = max(N - k, 0), withGrad = min(k, N)", () => {
  const k = 8;
  const spec: LoopSpec = { kind: "poisson_lognormal", mean: 8, backprop: k };
  const ds = draws(spec);
  for (const d of ds) {
    assert(d.total >= 1);
    assertEquals(d.noGrad + d.withGrad, d.total);
    assertEquals(d.withGrad, Math.min(k, d.total));
    assertEquals(d.noGrad, Math.max(d.total - k, 0));
  }
  // Both regimes occur, at the rate the pmf says.
  const pmf = loopPmf(spec);
  const pShort = sum(pmf.slice(0, k)); // P(N < k)
  const frac = ds.filter((d) => d.withGrad < k).length / ds.length;
  assert(pShort > 0.1 && pShort < 0.9);
  assert(
    Math.abs(frac - pShort) <= 5 * Math.sqrt(pShort * (1 - pShort) / ds.length),
  );
  // Mean no-grad loops: E[max(N - k, 0)].
  const exactNoGrad = pmf.reduce((a, p, n) => a + p * Math.max(n - k, 0), 0);
  const noGrad = ds.map((d) => d.noGrad);
  const varNoGrad = pmf.reduce(
    (a, p, n) => a + p * (Math.max(n - k, 0) - exactNoGrad) ** 2,
    0,
  );
  const { mean } = sampleMoments(noGrad);
  assert(Math.abs(mean - exactNoGrad) <= 5 * Math.sqrt(varNoGrad / ds.length));
});

Deno.test("poisson_lognormal with max: capped draws, mean from the pmf", () => {
  const spec: LoopSpec = {
    kind: "poisson_lognormal",
    mean: 32,
    backprop: 8,
    max: 40,
  };
  const pmf = loopPmf(spec);
  assertEquals(pmf.length, 41);
  assertAlmostEquals(sum(pmf), 1, 1e-12);
  assert(pmf[40] > 0.1, "the tail lands on max");
  const mean = expectedLoops(spec);
  assert(mean < 33 && mean > 25);
  const xs = totals(spec);
  assert(xs.every((x) => x >= 1 && x <= 40));
  assertMoments(xs, pmfMoments(pmf), "huginn capped at 40");
});

Deno.test("determinism: same (seed, step) gives the same draw, in any order", () => {
  const specs: LoopSpec[] = [
    { kind: "lognormal", mu: 2, sigma: 0.7, min: 1, max: 100 },
    { kind: "poisson", lambda: 5, min: 1, max: 100 },
    { kind: "uniform", min: 1, max: 100 },
    { kind: "poisson_lognormal", mean: 32, backprop: 8 },
  ];
  for (const spec of specs) {
    const forward = draws(spec, 7, 300);
    const backward = Array.from({ length: 300 }, (_, i) => 299 - i)
      .map((step) => sampleLoops(spec, 7, step))
      .reverse();
    assertEquals(backward, forward, spec.kind);
    assertEquals(sampleLoops(spec, 7, 123), sampleLoops(spec, 7, 123));
    // Steps vary, and another seed gives another sequence.
    assert(
      new Set(forward.map((d) => d.total)).size > 5,
      `${spec.kind} varies with step`,
    );
    assertNotEquals(
      draws(spec, 8, 300),
      forward,
      `${spec.kind} varies with seed`,
    );
  }
});

Deno.test("validateLoopSpec: errors name the key and what is allowed", () => {
  const bad = (
    spec: unknown,
    ErrorClass: typeof TypeError | typeof RangeError,
    text: string,
  ) => assertThrows(() => validateLoopSpec(spec), ErrorClass, text);
  bad(
    { kind: "gaussian" },
    TypeError,
    'loops.kind must be one of "fixed", "lognormal", "poisson", "uniform", "poisson_lognormal"',
  );
  bad(null, TypeError, "loops must be an object");
  bad(
    { kind: "lognormal", mu: 2, sigma: 0, min: 1, max: 100 },
    RangeError,
    "loops.sigma must be > 0",
  );
  bad(
    { kind: "lognormal", mu: 2, sigma: -1, min: 1, max: 100 },
    RangeError,
    "loops.sigma must be > 0",
  );
  bad(
    { kind: "lognormal", mu: 2, sigma: 0.7, min: 0, max: 100 },
    RangeError,
    "loops.min must be an integer >= 1",
  );
  bad(
    { kind: "uniform", min: 1.5, max: 100 },
    RangeError,
    "loops.min must be an integer >= 1",
  );
  bad(
    { kind: "uniform", min: 10, max: 5 },
    RangeError,
    "loops.min must be <= loops.max",
  );
  bad(
    { kind: "lognormal", sigma: 0.7, min: 1, max: 100 },
    TypeError,
    "loops.mu is required",
  );
  bad(
    { kind: "lognormal", mu: 2, sd: 0.7, sigma: 0.7, min: 1, max: 100 },
    TypeError,
    "loops.sd is not a key",
  );
  bad(
    { kind: "poisson", lambda: "5", min: 1, max: 100 },
    TypeError,
    "loops.lambda must be a finite number",
  );
  bad(
    { kind: "poisson", lambda: NaN, min: 1, max: 100 },
    TypeError,
    "loops.lambda must be a finite number",
  );
  bad(
    { kind: "poisson", lambda: 0, min: 1, max: 100 },
    RangeError,
    "loops.lambda must be > 0",
  );
  bad({ kind: "fixed", n: 0 }, RangeError, "loops.n must be an integer >= 1");
  bad(
    { kind: "poisson_lognormal", mean: 32, backprop: 0 },
    RangeError,
    "loops.backprop must be an integer >= 1",
  );
  bad(
    { kind: "poisson_lognormal", mean: -1, backprop: 8 },
    RangeError,
    "loops.mean must be > 0",
  );
  bad(
    { kind: "poisson_lognormal", mean: 32, backprop: 8, max: 2.5 },
    RangeError,
    "loops.max must be an integer >= 1",
  );
  assertThrows(
    () => validateLoopSpec({ kind: "uniform", min: 1 }, "train.loops"),
    TypeError,
    "train.loops.max is required",
  );
  // Well-formed specs pass, including Huginn without optional keys.
  validateLoopSpec({ kind: "fixed", n: 4 });
  validateLoopSpec({ kind: "poisson_lognormal", mean: 32, backprop: 8 });
  validateLoopSpec({ kind: "lognormal", mu: 2, sigma: 0.7, min: 1, max: 100 });
});

Deno.test("sampleLoops validates its spec, seed and step", () => {
  assertThrows(
    () => sampleLoops({ kind: "uniform", min: 5, max: 1 }, 1, 0),
    RangeError,
    "loops.min must be <= loops.max",
  );
  assertThrows(
    () => sampleLoops({ kind: "fixed", n: 4 }, 1, -1),
    RangeError,
    "step",
  );
  assertThrows(
    () => sampleLoops({ kind: "fixed", n: 4 }, 1.5, 0),
    RangeError,
    "seed",
  );
});

Deno.test("describeLoopSpec names the distribution and its mean", () => {
  const text = describeLoopSpec({
    kind: "lognormal",
    mu: 2,
    sigma: 0.7,
    min: 1,
    max: 100,
  });
  assertStringIncludes(text, "LogNormal(mu=2, sigma=0.7)");
  assertStringIncludes(text, "1, 100");
  assertStringIncludes(text, "E[N] ≈ 9.4");
  assertStringIncludes(describeLoopSpec({ kind: "fixed", n: 4 }), "4");
  assertStringIncludes(
    describeLoopSpec({ kind: "uniform", min: 1, max: 100 }),
    "50.5",
  );
  assertStringIncludes(
    describeLoopSpec({ kind: "poisson", lambda: 5, min: 1, max: 100 }),
    "lambda=5",
  );
  const huginn = describeLoopSpec({
    kind: "poisson_lognormal",
    mean: 32,
    backprop: 8,
  });
  assertStringIncludes(huginn, "last 8 loops");
  assertStringIncludes(huginn, "E[N] ≈ 33");
});
