import type { Platform } from '../webhooks/platforms/index.js'

/**
 * What the city can do to a comment on each platform (../shared/platforms/README.md): X cannot
 * delete other people's posts, only hide replies; LinkedIn cannot hide, only delete; Facebook
 * hides silently (the author still sees the comment and is not told, so the notice matters).
 */
export const PLATFORM_CAPABILITIES: Readonly<Record<Platform, { remove: boolean; hide: boolean }>> = {
  facebook: { remove: true, hide: true },
  instagram: { remove: true, hide: true },
  x: { remove: false, hide: true },
  linkedin: { remove: true, hide: false },
  website: { remove: true, hide: true },
}

/** An automatic removal deletes where the platform allows it, and hides where it can only hide. */
export function removalActionFor(platform: Platform): 'remove' | 'hide' {
  return PLATFORM_CAPABILITIES[platform].remove ? 'remove' : 'hide'
}
