import type * as http from 'node:http';

/**
 * The model lists a client asks for before it chats: Ollama's own `GET /api/tags` and the
 * OpenAI-compatible `GET /v1/models` (which Ollama, vLLM, LM Studio and LiteLLM also serve), in
 * their real wire formats.
 */

export interface MockModel {
  name: string;
  /** Ollama's `details.family`. */
  family?: string;
  /** Ollama's `details.parameter_size`, for example `7.6B`. */
  parameterSize?: string;
}

export function isModelListPath(method: string | undefined, url: string | undefined): boolean {
  const path = (url ?? '').split('?')[0];
  return method === 'GET' && (path === '/api/tags' || /\/models$/.test(path));
}

export function writeModelList(models: readonly MockModel[], url: string | undefined, res: http.ServerResponse): void {
  const path = (url ?? '').split('?')[0];
  const modified = '2026-11-30T10:00:00.000000000Z';
  const body =
    path === '/api/tags'
      ? {
          models: models.map((m) => ({
            name: m.name,
            model: m.name,
            modified_at: modified,
            size: 4_683_087_332,
            digest: 'sha256:' + '0'.repeat(64),
            details: { parent_model: '', format: 'gguf', family: m.family ?? '', families: m.family ? [m.family] : null, parameter_size: m.parameterSize ?? '', quantization_level: 'Q4_K_M' },
          })),
        }
      : { object: 'list', data: models.map((m) => ({ id: m.name, object: 'model', created: 1_764_496_800, owned_by: 'library' })) };
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
