// Driving the console through inject(): a cookie jar, form posts, the development sign-in.
import type { FastifyInstance } from 'fastify'

/** A browser's cookie jar, enough for inject(). */
export class Jar {
  cookies = new Map<string, string>()
  take(res: { headers: Record<string, unknown> }) {
    const set = res.headers['set-cookie']
    for (const line of [set ?? []].flat() as string[]) {
      const [pair] = line.split(';')
      const at = pair!.indexOf('=')
      const name = pair!.slice(0, at)
      const value = pair!.slice(at + 1)
      if (value === '' || /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }
}

export async function get(app: FastifyInstance, jar: Jar, url: string) {
  const res = await app.inject({ method: 'GET', url, headers: { cookie: jar.header() } })
  jar.take(res)
  return res
}

export async function post(app: FastifyInstance, jar: Jar, url: string, form: Record<string, string>) {
  const res = await app.inject({
    method: 'POST',
    url,
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(form).toString(),
  })
  jar.take(res)
  return res
}

export const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? ''

export async function signIn(app: FastifyInstance, jar: Jar, name: string, role: string, returnTo = '/console') {
  const page = await get(app, jar, `/console/sign-in?returnTo=${encodeURIComponent(returnTo)}`)
  return post(app, jar, '/console/sign-in/development', { _csrf: csrfOf(page.body), name, role, returnTo })
}

