// Admin calls against a benchmarked server (as the root key).
import { ROOT_KEY, type Server } from './servers.js';

export async function api<T = Record<string, unknown>>(server: Server, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${ROOT_KEY}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export async function defaultProjectId(server: Server): Promise<string> {
  const { projects } = await api<{ projects: { id: string }[] }>(server, 'GET', '/v1/projects');
  return projects[0]!.id;
}

export async function createKey(server: Server, projectId: string, body: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const { apiKey } = await api<{ apiKey: { id: string; key: string } }>(server, 'POST', `/v1/projects/${projectId}/keys`, body);
  return apiKey;
}
