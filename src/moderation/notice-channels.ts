// How a notice can reach an author on each platform in 2026 (/work/shared/platforms, docs/moderation.md
// "Notice channels"), decided when the decision is recorded and recorded with it:
//
// - Facebook and Instagram: a private reply, one message per comment, within 7 days of the comment.
//   After 7 days, or for a second message (a restore, an appeal's outcome), the platform cannot tell
//   the author: the notice is published under its appeal reference, and the record says so.
// - X and LinkedIn cannot message an author: a short public reply pointing to the appeal page
//   (NOTICE_CHANNEL_X / NOTICE_CHANNEL_LINKEDIN = public-reply), or no platform notice (appeal-page).
// - The website: its own notice endpoint, and e-mail when the author left an address.
// - An appeal's outcome also goes by e-mail to the contact the appellant gave, when it is an address.
import type { Platform } from '../webhooks/platforms/index.js'

export type NoticeChannelSetting = 'public-reply' | 'appeal-page'
export interface NoticeChannels {
  x: NoticeChannelSetting
  linkedin: NoticeChannelSetting
}
export const DEFAULT_NOTICE_CHANNELS: NoticeChannels = { x: 'public-reply', linkedin: 'public-reply' }

/** Meta's window for a private reply to a comment. */
export const PRIVATE_REPLY_WINDOW_MS = 7 * 86_400_000

export type Channel = 'private_reply' | 'public_reply' | 'website' | 'email'

export interface PlannedDelivery {
  channel: Channel
  /** reply: on the platform; email: to the author's address; email_appellant: to the appellant's contact. */
  operation: 'reply' | 'email' | 'email_appellant'
  /** The exact text this delivery sends. */
  text: string
  /** email: to the author's address, or to the contact the appellant gave (looked up when sending, so a disposal leaves no copy). */
  to?: 'author' | 'appellant'
}

export interface NoticePlan {
  deliveries: PlannedDelivery[]
  /** Null when the platform carries the notice; otherwise why it cannot (the author is not told by the platform). */
  platformNotTold: string | null
}

/** What the record keeps of a plan: channels and addresses, never a second copy of the text. */
export function planRecord(plan: NoticePlan): { channels: Array<{ channel: Channel; to?: 'author' | 'appellant' }>; platformNotTold: string | null } {
  return { channels: plan.deliveries.map((d) => (d.to ? { channel: d.channel, to: d.to } : { channel: d.channel })), platformNotTold: plan.platformNotTold }
}

const looksLikeEmail = (s: string) => /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(s.trim())

export function planNotice(input: {
  platform: Platform
  /** When the comment was posted (the platform's time). */
  postedAt: Date
  now: Date
  fullText: string
  /** The short public reply for X and LinkedIn. */
  shortText: string
  authorEmail: string | null
  /** A second message about the same comment (a restore, an appeal's outcome). */
  followUp: boolean
  /** The appellant's contact, for an appeal's outcome. */
  appealContact?: string | null
  channels: NoticeChannels
}): NoticePlan {
  const deliveries: PlannedDelivery[] = []
  let platformNotTold: string | null = null
  switch (input.platform) {
    case 'facebook':
    case 'instagram': {
      if (input.followUp) platformNotTold = 'the platform allows one private reply per comment, and it was for the first notice'
      else if (input.now.getTime() - input.postedAt.getTime() > PRIVATE_REPLY_WINDOW_MS) platformNotTold = 'the platform allows a private reply only within 7 days of the comment'
      else deliveries.push({ channel: 'private_reply', operation: 'reply', text: input.fullText })
      break
    }
    case 'x':
    case 'linkedin': {
      if (input.channels[input.platform] === 'public-reply') deliveries.push({ channel: 'public_reply', operation: 'reply', text: input.shortText })
      else platformNotTold = `the platform cannot message the author, and NOTICE_CHANNEL_${input.platform.toUpperCase()} is appeal-page`
      break
    }
    case 'website':
      deliveries.push({ channel: 'website', operation: 'reply', text: input.fullText })
      break
  }
  if (input.platform === 'website' && input.authorEmail) deliveries.push({ channel: 'email', operation: 'email', text: input.fullText, to: 'author' })
  const contact = input.appealContact?.trim()
  const sameAsAuthor = input.platform === 'website' && contact?.toLowerCase() === input.authorEmail?.trim().toLowerCase()
  if (contact && looksLikeEmail(contact) && !sameAsAuthor) deliveries.push({ channel: 'email', operation: 'email_appellant', text: input.fullText, to: 'appellant' })
  return { deliveries, platformNotTold }
}
