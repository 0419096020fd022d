// The default comment policy, as data: the starting point a city adopts, edits and publishes as
// its first policy version. Modeled on typical US municipal social media comment policies: rules
// target categories of content (obscenity, threats, harassment, private information, spam,
// illegal activity, impersonation, malicious links), never the opinions expressed. Criticism of
// the city, its officials and its decisions is welcome and is never a reason to remove a comment.
//
// Term lists are deliberately specific: a "remove" rule must not fire on ordinary speech
// ("this tax is going to hurt small businesses", "prices will shoot up"), so ambiguous words are
// left out of remove rules or placed in "flag" rules that a person reviews.
import type { NoticeTemplates, PolicyVersionContent, Rule } from './rules.js'

export const DEFAULT_POLICY_NAME = 'City Social Media Comment Policy'
export const DEFAULT_POLICY_DESCRIPTION =
  "Rules for public comments on the City's social media accounts and website. The City welcomes comments on " +
  'the topics it posts about, including criticism of the City, its officials and its decisions. Comments are removed ' +
  'or held for review only when they fall into one of the categories below, regardless of the opinion expressed. ' +
  'Every decision cites the rule applied, and authors may appeal within 30 days.'

export const DEFAULT_POLICY_URL = 'https://www.citykankakee-il.gov/social-media-policy'
export const DEFAULT_APPEAL_URL = 'https://www.citykankakee-il.gov/comment-appeals'

/**
 * The notices an author receives, per action, in the City's voice. A policy version without
 * `notices` (or without one of them) uses these. Each cited rule appears once, as its `rule`
 * paragraph (the rule's title and the policy's own words for it); the service adds the appeal
 * address and the author's reference to removal and hide notices.
 */
export const DEFAULT_NOTICES: Required<NoticeTemplates> = {
  removed:
    "Your comment on {platform} was removed because it breaks the City of Kankakee's social media comment policy ({policyUrl}):\n\n" +
    '{rules}\n\n' +
    'The City does not remove comments because of the opinions they express. If you believe this decision is wrong, you can appeal it ' +
    'within 30 days. A staff member who did not make the original decision will review your appeal.',
  hidden:
    "Your comment on {platform} was hidden from other readers because it breaks the City of Kankakee's social media comment policy ({policyUrl}):\n\n" +
    '{rules}\n\n' +
    'The City does not hide comments because of the opinions they express. If you believe this decision is wrong, you can appeal it ' +
    'within 30 days. A staff member who did not make the original decision will review your appeal.',
  held:
    "Your comment on {platform} is being held for review by City staff because it may fall under the City of Kankakee's social media comment policy ({policyUrl}):\n\n" +
    '{rules}\n\n' +
    'Most held comments are published after review. If your comment is removed, you will be told why and how to appeal.',
  restored:
    'Your comment on {platform} has been restored after review: the City no longer holds that it breaks its social media comment policy ({policyUrl}). ' +
    'A comment the platform deleted cannot be put back; you are welcome to post it again. (City Technical Services Team)',
  appealUpheld:
    'Your appeal was reviewed by a City staff member who did not make the original decision. The decision stands: your comment on {platform} ' +
    "breaks the City of Kankakee's social media comment policy ({policyUrl}):\n\n" +
    '{rules}\n\n' +
    "This ends the City's review of your comment. You are welcome to comment again within the policy.",
  appealReversed:
    'Your appeal was reviewed by a City staff member who did not make the original decision, and the decision was reversed: your comment on ' +
    "{platform} does not break the City's social media comment policy ({policyUrl}). A hidden comment is visible again; a comment the platform " +
    'deleted cannot be put back, and you are welcome to post it again. (City Technical Services Team)',
  rule: 'Section {ruleCode}, {ruleTitle}: {ruleText}',
}

const rules: Rule[] = [
  {
    code: '4.a',
    title: 'Obscene or vulgar language',
    sectionText:
      'Comments containing obscene, vulgar or sexually explicit language are removed. You are welcome to post ' +
      'the same point again without that language.',
    category: 'obscenity',
    action: 'remove',
    matcher: {
      type: 'terms',
      terms: [
        'fuck', 'fucks', 'fucking', 'fuckin', 'fucked', 'fucker', 'fuckers', 'fuckface', 'motherfucker', 'motherfucking',
        'f*ck', 'f*cking', 'f*cker', 'f*cked', 'fck', 'fuk', 'fukin', 'wtf', 'stfu', 'gtfo',
        'shit', 'shits', 'shitty', 'shithead', 'shitshow', 'bullshit', 'horseshit', 'sh*t',
        'ass', 'asshole', 'assholes', 'jackass', 'dumbass', 'smartass', 'kiss my ass',
        'bitch', 'bitches', 'son of a bitch', 'b*tch',
        'bastard', 'bastards', 'cunt', 'twat', 'wanker', 'dickhead', 'cocksucker',
      ],
    },
  },
  {
    code: '4.b',
    title: 'Threats of violence',
    sectionText:
      'Comments that threaten or encourage violence against any person, group or property are removed and may be ' +
      'referred to law enforcement.',
    category: 'threats_of_violence',
    action: 'remove',
    matcher: {
      type: 'terms',
      terms: [
        'kill you', 'kill ya', 'kill all of you', 'i will kill', "i'll kill", "i'm going to kill", 'im going to kill',
        "i'm gonna kill", 'im gonna kill', 'gonna kill you', 'going to kill you', 'shoot you dead', 'shoot you in the',
        'shoot up the', 'shoot up city hall', 'shoot the place up', 'bomb the', 'blow up city hall', 'burn down city hall',
        'burn your house down', 'going to hurt you', 'gonna hurt you', 'hurt your family', 'beat you up',
        'put a bullet in', 'watch your back', 'i know where you live', 'hang them all',
      ],
    },
  },
  {
    code: '4.c',
    title: 'Harassment and personal attacks',
    sectionText:
      'Personal attacks, insults and slurs directed at any person or group, including City staff and other ' +
      'commenters, are held for review and removed if they are harassment. Criticism of public officials for their ' +
      'official actions is not harassment.',
    category: 'harassment',
    action: 'flag',
    matcher: {
      type: 'terms',
      terms: [
        'idiot', 'idiots', 'moron', 'morons', 'imbecile', 'scumbag', 'scumbags', 'lowlife', 'piece of garbage',
        'piece of trash', 'kill yourself', 'kys', 'go back to where you came from', 'retard', 'retarded', 'faggot',
        'tranny',
      ],
    },
  },
  {
    code: '4.d',
    title: 'Social Security numbers',
    sectionText:
      "Comments containing a Social Security number (anyone's, including your own) are removed to protect the " +
      'person it belongs to.',
    category: 'private_information',
    action: 'remove',
    matcher: { type: 'private_information', detectors: ['ssn'] },
  },
  {
    code: '4.e',
    title: 'Personal contact information',
    sectionText:
      "Comments that post a private person's phone number, e-mail address or home address are held for review " +
      'and removed unless the information is public business contact information.',
    category: 'private_information',
    action: 'flag',
    matcher: { type: 'private_information', detectors: ['phone', 'email', 'street_address'] },
  },
  {
    code: '4.f',
    title: 'Spam and commercial solicitation',
    sectionText:
      'Advertising, solicitation and promotion of commercial products, services or schemes are held for review and ' +
      'removed when they are commercial.',
    category: 'spam_or_commercial_solicitation',
    action: 'flag',
    matcher: {
      type: 'terms',
      terms: [
        'buy now', 'limited offer', 'limited time offer', 'work from home', 'earn money from home',
        'make money fast', 'click here', 'crypto giveaway', 'bitcoin giveaway', 'double your bitcoin', 'free gift card',
        'free followers', 'dm me for', 'check my profile', 'promo code', 'use my code', 'cheap viagra',
        'guaranteed income', 'investment opportunity',
      ],
    },
  },
  {
    code: '4.g',
    title: 'Repeated posting',
    sectionText:
      'Posting the same or nearly the same comment three or more times within ten minutes floods the conversation; ' +
      'the repeats are removed. Post your comment once; it will be seen.',
    category: 'spam_or_commercial_solicitation',
    action: 'remove',
    matcher: { type: 'repetition', minCount: 3, windowMinutes: 10, similarity: 0.9 },
  },
  {
    code: '4.h',
    title: 'Illegal activity',
    sectionText: 'Comments that offer, solicit or promote illegal activity, such as selling illegal drugs, are held for review.',
    category: 'illegal_activity',
    action: 'flag',
    matcher: {
      type: 'terms',
      terms: [
        'buy drugs', 'selling drugs', 'drugs for sale', 'selling weed', 'weed for sale', 'buy weed from me',
        'selling meth', 'meth for sale', 'selling pills', 'pills for sale', 'selling fentanyl', 'fake ids',
        'fake id for sale', 'stolen goods for sale', 'counterfeit money',
      ],
    },
  },
  {
    code: '4.i',
    title: 'Impersonation',
    sectionText:
      'Comments that impersonate the City, a City official or employee, or any other person are held for review.',
    category: 'impersonation',
    action: 'flag',
    matcher: {
      type: 'terms',
      terms: [
        'official city account', 'official city of kankakee account', 'this is the official account', 'i am the mayor',
        "i'm the mayor", 'this is the mayor', 'speaking on behalf of the city', 'i am the police chief',
        'this is the police department', 'message from city hall',
      ],
    },
  },
  {
    code: '4.j',
    title: 'Malicious and disguised links',
    sectionText:
      'Links to known malicious or phishing sites, and links hidden behind link shorteners, are removed. Post the ' +
      'full address of the page instead.',
    category: 'malicious_links',
    action: 'remove',
    matcher: {
      type: 'links',
      denyDomains: ['malware.example', 'phish.example', 'free-gift-cards.example', 'kankakee-tax-refund.example'],
      shorteners: true,
    },
  },
  {
    code: '4.k',
    title: 'Disruptive text formatting',
    sectionText:
      'Text made unreadable on purpose, such as letters stacked with many accent marks ("Zalgo text"), is held for ' +
      'review. Ordinary accents in any language are not affected.',
    category: 'other',
    action: 'flag',
    matcher: { type: 'regex', pattern: '\\p{M}{6,}' },
  },
]

/** The default policy content (passes PolicyVersionContent). */
export const DEFAULT_POLICY: PolicyVersionContent = {
  rules,
  policyUrl: DEFAULT_POLICY_URL,
  appealUrl: DEFAULT_APPEAL_URL,
  notices: DEFAULT_NOTICES,
}

export const defaultPolicy = {
  name: DEFAULT_POLICY_NAME,
  description: DEFAULT_POLICY_DESCRIPTION,
  content: DEFAULT_POLICY,
} as const
