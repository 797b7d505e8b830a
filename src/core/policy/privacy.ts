import type { ModelConfig } from '../config/settingsSchema';

/**
 * Where a request's code may go. `local-only` (a file marked `coderoute: local-only`) may reach
 * only models tagged `local`; the whole fallback chain stays inside that class.
 */
export type PrivacyClass = 'any' | 'local-only';

export function isLocalModel(model: ModelConfig): boolean {
  return model.tags.includes('local');
}

/** True when a request of this class may be sent to the model. */
export function allowedFor(privacy: PrivacyClass, model: ModelConfig): boolean {
  return privacy === 'any' || isLocalModel(model);
}
