/** Every workflow the worker registers. Workflow types are these export names. */
export { finwaveOnboarding } from './finwave';
