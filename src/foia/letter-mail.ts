import { inTransaction } from '../db/tx.js'
import type { PrismaClient } from '../generated/prisma/client.js'
import type { Clock } from '../ledger/append.js'
import { sendMail, type MailConfig } from '../mail/send.js'
import { recordDelivery, type CreatedLetter, type DeliveryStatus } from './letters.js'

/**
 * The one function that sends a FOIA letter by e-mail (src/mail/send.ts, nodemailer, TLS): the
 * letter's text as the message body, byte for byte the text the ledger's textSha256 covers, and the
 * recorded PDF attached (its SHA-256 is the ledger's pdfSha256).
 */
export async function sendLetterMail(
  mail: MailConfig,
  to: string,
  letter: { subject: string; text: string; pdf: Buffer; fileName: string },
): Promise<{ status: DeliveryStatus; messageId?: string; error?: string }> {
  const sent = await sendMail(mail, {
    to,
    subject: letter.subject,
    text: letter.text,
    attachments: [{ filename: letter.fileName, content: letter.pdf, contentType: 'application/pdf' }],
  })
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
  mail: MailConfig | null,
  created: CreatedLetter,
  clock: Clock,
  options: { publicFiling?: boolean } = {},
): Promise<DeliveryStatus> {
  const { letter, email, trackingNumber } = created
  const outcome: { status: DeliveryStatus; messageId?: string; error?: string } = !email
    ? { status: 'no_address' }
    : !mail
      ? { status: 'no_mail_server' }
      : options.publicFiling && (await publicLettersSentTo(prisma, email, clock)) >= PUBLIC_LETTERS_PER_DAY
        ? { status: 'suppressed', error: `${PUBLIC_LETTERS_PER_DAY} letters of public filings were e-mailed to this address in the last 24 hours` }
        : await sendLetterMail(mail, email, { subject: letter.subject, text: letter.text, pdf: Buffer.from(letter.pdf), fileName: `foia-${trackingNumber}-${letter.kind}.pdf` })
  await inTransaction(prisma, (tx) => recordDelivery(tx, letter.id, outcome, clock))
  return outcome.status
}
