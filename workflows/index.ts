/** Every workflow the worker registers. Workflow types are these export names. */
export { finwaveOnboarding } from './finwave';
export { id360Enrollment } from './id360';
export { authenteqVerification } from './authenteq';
export { namirialEnrollment } from './namirial';
export { fourthlineCase, fourthlineSignature } from './fourthline';
export { evidenceRetention } from './retention';
export { verificationNotifications, deliverNotification } from './notify';
export { webhookEndpoints } from './webhook-endpoints';
