/**
 * The STARS parts: loop-count samplers (a registry), Jacobian-vector
 * products, power-iteration and Hutchinson penalties (a registry), probes,
 * spectral-radius estimates and the exact Jacobian. The ones a run uses
 * most are also in the main entry.
 *
 * @module
 */
export {
  describeLoopSpec,
  expectedLoops,
  type FixedLoops,
  type LogNormalLoops,
  type LoopDraw,
  type LoopKeys,
  loopPmf,
  type LoopSampler,
  loopSampler,
  type LoopSpec,
  type PoissonLogNormalLoops,
  type PoissonLoops,
  registerLoopSampler,
  sampleLoops,
  type SpecChecks,
  type UniformLoops,
  validateLoopSpec,
} from "./loop_sampler.ts";
export { DEFAULT_FD_EPS, jvp, jvpExact, type StateMap, vjp } from "./jacobian_products.ts";
export { stopGradient } from "./stop_gradient.ts";
export { l2Norm } from "./l2_norm.ts";
export { gaussianProbe, type Probe, PROBES, rademacherProbe, randomUnitVector } from "./probes.ts";
export {
  POWER_MODES,
  powerIterationPenalty,
  type PowerMode,
  type PowerPenalty,
  type PowerPenaltyOptions,
} from "./power_penalty.ts";
export { hutchinsonFrobenius, type HutchinsonOptions } from "./hutchinson.ts";
export {
  estimateSpectralRadius,
  type SpectralRadiusEstimate,
  type SpectralRadiusOptions,
} from "./spectral_radius.ts";
export {
  type Complex,
  eigenvalues,
  jacobianMatrix,
  MAX_EXACT_STATE,
  spectralRadiusOf,
} from "./exact_jacobian.ts";
export {
  hutchinsonPenalty,
  type HutchinsonPenaltyOptions,
  jacobianPenalty,
  type JacobianPenaltyOptions,
  type LoopMapModel,
  type PenaltyCompute,
  type PenaltyTerm,
} from "./jacobian_penalty.ts";
export {
  DEFAULT_PENALTY_OPTIONS,
  PENALTY_KEYS,
  penaltyFromOptions,
  type PenaltyOptions,
  REG_KINDS,
  type RegKind,
  validatePenaltyOptions,
} from "./penalty_options.ts";
export { PENALTY_KINDS, type PenaltyKind, penaltyKind, registerPenalty } from "./penalties.ts";
export { LOOP_KEYS, loopSpecFromKeys } from "./loop_sampler.ts";
