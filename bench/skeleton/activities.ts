/** The skeleton's activities: no-op bodies. */
export const skeletonActivities = {
  async skeletonNoop(): Promise<void> {},
};
export type SkeletonActivities = typeof skeletonActivities;
