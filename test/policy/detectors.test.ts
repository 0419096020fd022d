import t, { type Test } from 'tap'
import {
  detectEmails,
  detectPhones,
  detectPrivateInformation,
  detectSsns,
  detectStreetAddresses,
  extractLinks,
  LINK_SHORTENERS,
  LinkMatcher,
  normalizeDomain,
  type DetectorMatch,
} from '../../src/policy/detectors.js'
import { check, evidenceTexts, policy } from './fixtures/policy.js'

/** The hit texts, after checking each is the original substring at its offsets. */
function texts(t: Test, original: string, hits: ReadonlyArray<Pick<DetectorMatch, 'start' | 'end' | 'text'>>): string[] {
  for (const h of hits) t.equal(original.slice(h.start, h.end), h.text, `offsets of ${JSON.stringify(h.text)}`)
  return hits.map((h) => h.text)
}

t.test('phone numbers: positive', async (t) => {
  for (const phone of [
    '(815) 555-0142',
    '(815)555-0142',
    '815-555-0142',
    '815.555.0142',
    '815 555 0142',
    '8155550142',
    '+1 815 555 0142',
    '+1 (815) 555-0142',
    '+18155550142',
    '1-815-555-0142',
    '1 (815) 555 0142',
    '８１５-５５５-０１４２',
    '815-555-\u200b0142',
  ]) {
    const text = `Call me at ${phone}, thanks`
    t.same(texts(t, text, detectPhones(text)), [phone], phone)
  }
})

t.test('phone numbers: negative', async (t) => {
  for (const text of [
    'order 123456789012 shipped',
    'tracking 81555501420000',
    'in 2024 and 1999-2024',
    'id 123-456-7890', // area code cannot start with 1
    '815-155-0142', // exchange cannot start with 1
    '555-0142', // no area code
    'version 8.155.550.142.7',
    'account 815-555-0142-77',
    'budget of $8,155,550,142',
  ]) {
    t.same(detectPhones(text), [], text)
  }
})

t.test('e-mail addresses', async (t) => {
  const text = 'Mail john.doe+news@Example.COM. or bob_2@mail.city.gov, not me@localhost or @mention or a@b.c'
  t.same(texts(t, text, detectEmails(text)), ['john.doe+news@Example.COM', 'bob_2@mail.city.gov'])
  t.same(detectEmails('no at sign here'), [])
  t.same(detectEmails('@@@ x@ @y.com'), [])
  const fw = 'ｊａｎｅ＠ｅｘａｍｐｌｅ．ｏｒｇ'
  t.same(texts(t, fw, detectEmails(fw)), [fw], 'fullwidth')
})

t.test('social security numbers', async (t) => {
  const text = 'My SSN is 123-45-6789 and hers is 078 05 1120.'
  t.same(texts(t, text, detectSsns(text)), ['123-45-6789', '078 05 1120'])
  for (const bad of ['000-12-3456', '666-12-3456', '900-12-3456', '999-12-3456', '123-00-4567', '123-45-0000', '123-45 6789', '1234-56-7890', '123-45-67890', '123456789']) {
    t.same(detectSsns(`ssn ${bad} x`), [], bad)
  }
})

t.test('street addresses', async (t) => {
  for (const [text, address] of [
    ['I live at 123 N Main St.', '123 N Main St.'],
    ['Send it to 1450 East Court Street Apt 4 please', '1450 East Court Street Apt 4'],
    ['at 77 Martin Luther King Jr Blvd', '77 Martin Luther King Jr Blvd'],
    ['meet at 10 Prairie Drive', '10 Prairie Drive'],
    ['his house, 2201 W. Station St, Unit 3B', '2201 W. Station St, Unit 3B'],
    ['12 oak ave is where', '12 oak ave'],
    ['500 S 5th Ave #12', '500 S 5th Ave #12'],
  ] as const) {
    t.same(texts(t, text, detectStreetAddresses(text)), [address], text)
  }
  for (const text of [
    'Great job on the Washington Ave repaving!',
    'I paid 5 dollars at the court',
    'took 10 minutes drive',
    'There were 3 cars on Main St',
    'we need 2 more lanes',
    'Route 66 is a highway',
    'the 4 way stop',
  ]) {
    t.same(detectStreetAddresses(text), [], text)
  }
})

t.test('detectPrivateInformation runs the named detectors, hits by offset', async (t) => {
  const text = 'Reach me: bob@example.com or (815) 555-0142, 12 Oak St; ssn 123-45-6789'
  const hits = detectPrivateInformation(text, ['ssn', 'phone', 'email', 'street_address'])
  t.same(texts(t, text, hits), ['bob@example.com', '(815) 555-0142', '12 Oak St', '123-45-6789'])
  t.same(hits.map((h) => h.detail), ['e-mail address', 'phone number', 'street address', 'social security number'])
  t.same(texts(t, text, detectPrivateInformation(text, ['phone'])), ['(815) 555-0142'])
})

t.test('link extraction', async (t) => {
  const text = 'See https://www.City.gov/a?b=1#c, www.x.y, example.com/path, bare kankakee.org. Not e.g. this or Mr.Smith or 3.14'
  t.same(texts(t, text, extractLinks(text)), ['https://www.City.gov/a?b=1#c', 'www.x.y', 'example.com/path', 'kankakee.org'])
  t.same(extractLinks(text).map((l) => l.host), ['www.city.gov', 'www.x.y', 'example.com', 'kankakee.org'])
})

t.test('deny-listed domains match themselves and subdomains, not look-alike suffixes', async (t) => {
  const m = new LinkMatcher(['malware.example', 'PHISH.example.'], false)
  const hit = (text: string) => texts(t, text, m.match(text))
  t.same(hit('go to malware.example now'), ['malware.example'])
  t.same(hit('go to http://MALWARE.EXAMPLE./login'), ['http://MALWARE.EXAMPLE./login'])
  t.same(hit('a.b.malware.example/x'), ['a.b.malware.example/x'])
  t.same(hit('https://login.phish.example'), ['https://login.phish.example'])
  t.same(hit('notmalware.example.com and malware.example.com and notmalware.example'), [])
  t.same(hit('xmalware.example'), [])
  t.same(hit('mаlware.example (Cyrillic а)'), ['mаlware.example'], 'homograph folded')
  t.same(hit('https://city.gov/redirect?to=malware.example'), ['malware.example'], 'a deny-listed domain inside a URL')
  t.equal(m.match('malware.example')[0]!.detail, 'deny-listed domain malware.example')
  t.equal(normalizeDomain('Sub.Example.COM..'), 'sub.example.com')
  t.equal(normalizeDomain('https://evil.example/path'), 'evil.example')
  t.equal(normalizeDomain('not a domain'), null)
  t.equal(normalizeDomain('localhost'), null)
})

t.test('link shorteners need a path', async (t) => {
  t.equal(LINK_SHORTENERS.length, 13)
  const m = new LinkMatcher([], true)
  const text = 'see bit.ly/3xYz9, https://tinyurl.com/abc, t.co/Ab1 and goo.gl/x, s.id/a; bit.ly alone; it\'s.id; U.S.ID card'
  t.same(texts(t, text, m.match(text)), ['bit.ly/3xYz9', 'https://tinyurl.com/abc', 't.co/Ab1', 'goo.gl/x', 's.id/a'])
  t.same(new LinkMatcher([], false).match(text), [], 'off unless enabled')
})

t.test('private information and links rules in a policy', async (t) => {
  const p = policy(
    { code: 'ssn', action: 'remove', matcher: { type: 'private_information', detectors: ['ssn'] } },
    { code: 'contact', action: 'flag', matcher: { type: 'private_information', detectors: ['phone', 'email'] } },
    { code: 'links', action: 'remove', matcher: { type: 'links', denyDomains: ['malware.example'], shorteners: true } },
  )
  const r = check(t, p, 'SSN 123-45-6789, call 815-555-0142 or visit bit.ly/x and malware.example')
  t.same(r.matches.map((m) => m.ruleCode), ['ssn', 'contact', 'links'])
  t.same(evidenceTexts(r), ['123-45-6789', '815-555-0142', 'bit.ly/x', 'malware.example'])
  t.equal(r.outcome, 'remove')
})

