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

/** Sends a letter just committed, if the requester gave an e-mail address, and records the outcome. */
export async function deliverLetter(prisma: PrismaClient, mail: LetterMailConfig | null, created: CreatedLetter, clock: Clock): Promise<DeliveryStatus> {
  const { letter, email } = created
  const outcome: { status: DeliveryStatus; messageId?: string; error?: string } = !email
    ? { status: 'no_address' }
    : !mail
      ? { status: 'no_mail_server' }
      : await sendLetterMail(mail, email, { subject: letter.subject, text: letter.text, pdf: Buffer.from(letter.pdf) })
  await inTransaction(prisma, (tx) => recordDelivery(tx, letter.id, outcome, clock))
  return outcome.status
}
