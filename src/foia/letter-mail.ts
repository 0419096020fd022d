import { sendNoticeEmail } from '../moderation/notice-delivery.js'
import { inTransaction } from '../db/tx.js'
import type { PrismaClient } from '../generated/prisma/client.js'
import type { Clock } from '../ledger/append.js'
import { recordDelivery, type CreatedLetter, type DeliveryStatus } from './letters.js'

export interface LetterMailConfig {
  url: string
  from: string
}

/**
 * The one function that sends a FOIA letter by e-mail: the letter's text as the message body.
 *
 * For now through the project's plain-SMTP client (src/moderation/notice-delivery.ts), which sends
 * one text/plain part and cannot attach the PDF: the message says the PDF is available on request
 * and the text is the letter itself (the same text the ledger's textSha256 covers). When the mail
 * module (nodemailer, branch notices25) lands, this sends the PDF as an attachment too.
 */
export async function sendLetterMail(
  mail: LetterMailConfig,
  to: string,
  letter: { subject: string; text: string; pdf?: Buffer },
): Promise<{ status: DeliveryStatus; messageId?: string; error?: string }> {
  const sent = await sendNoticeEmail({ url: mail.url, from: mail.from }, to, letter.subject, letter.text)
  return sent.ok ? { status: 'sent', messageId: sent.messageId } : { status: 'failed', error: sent.error }
}

/**
 * Letters of publicly filed requests e-mailed to one address in 24 hours, at most. Anyone can file
 * with any address, and the acknowledgement repeats the name and description the filer chose: without
 * this, the public form would make the city's relay send text of a stranger's choosing to anyone.
 */
export const PUBLIC_LETTERS_PER_DAY = 3

async function publicLettersSentTo(prisma: PrismaClient, email: string, clock: Clock): Promise<number> {
  const since = new Date(clock().getTime() - 86_400_000)
  return prisma.foiaLetterDelivery.count({ where: { status: 'sent', at: { gte: since }, letter: { email, request: { source: 'public' } } } })
}

/** Sends a letter just committed, if the requester gave an e-mail address, and records the outcome. */
export async function deliverLetter(
  prisma: PrismaClient,
  mail: LetterMailConfig | null,
  created: CreatedLetter,
  clock: Clock,
  options: { publicFiling?: boolean } = {},
): Promise<DeliveryStatus> {
  const { letter, email } = created
  const outcome: { status: DeliveryStatus; messageId?: string; error?: string } = !email
    ? { status: 'no_address' }
    : !mail
      ? { status: 'no_mail_server' }
      : options.publicFiling && (await publicLettersSentTo(prisma, email, clock)) >= PUBLIC_LETTERS_PER_DAY
        ? { status: 'suppressed', error: `${PUBLIC_LETTERS_PER_DAY} letters of public filings were e-mailed to this address in the last 24 hours` }
        : await sendLetterMail(mail, email, { subject: letter.subject, text: letter.text, pdf: Buffer.from(letter.pdf) })
  await inTransaction(prisma, (tx) => recordDelivery(tx, letter.id, outcome, clock))
  return outcome.status
}
