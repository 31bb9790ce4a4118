// metav1.Condition rules: one condition per type; lastTransitionTime moves only when the status
// changes; observedGeneration says which spec the condition speaks of.
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export type ConditionUpdate = Omit<Condition, 'lastTransitionTime'>;

export function setCondition(
  conditions: readonly Condition[],
  update: ConditionUpdate,
  now: string,
): Condition[] {
  const existing = conditions.find((c) => c.type === update.type);
  const lastTransitionTime =
    existing && existing.status === update.status ? existing.lastTransitionTime : now;
  const next: Condition = { ...update, lastTransitionTime };
  return existing
    ? conditions.map((c) => (c.type === update.type ? next : c))
    : [...conditions, next];
}

export function setConditions(
  conditions: readonly Condition[],
  updates: ConditionUpdate[],
  now: string,
): Condition[] {
  return updates.reduce((acc, u) => setCondition(acc, u, now), [...conditions]);
}

export const findCondition = (conditions: readonly Condition[] | undefined, type: string) =>
  conditions?.find((c) => c.type === type);
