/**
 * Redis key names. Version keys share one hash tag (`{prefix}`) so a script can bump several in one slot of a
 * Redis Cluster; entry keys carry no tag and spread over the cluster. No user input reaches a key name unhashed.
 */
import { createHash } from 'node:crypto'

/** 128+ bits of SHA-256, URL-safe: collisions are not a practical concern, and entries verify their query anyway. */
export function hash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 24)
}

export function modelVersionName(model: string): string {
  return `m:${model}`
}

export function tagVersionName(tag: string): string {
  return `t:${hash(tag)}`
}

export interface KeySpace {
  version(name: string): string
  /** A lease on one query's fill; in the versions' slot, so one script can check both. */
  lease(query: string): string
  entry(model: string, query: string): string
  channel: string
}

export function keySpace(prefix: string): KeySpace {
  return {
    version: (name) => `{${prefix}}:v:${name}`,
    lease: (query) => `{${prefix}}:l:${hash(query)}`,
    entry: (model, query) => `${prefix}:e:${model}:${hash(query)}`,
    channel: `${prefix}:bus`,
  }
}
