// The environment of a service whose every platform and mail relay are the test's fakes.
import { testPki } from './smtp-sink.js'

export function platformEnv(platformUrl: string, smtpUrl: string): Record<string, string> {
  return {
    FACEBOOK_GRAPH_URL: platformUrl,
    FACEBOOK_PAGE_ID: '448242228374517',
    FACEBOOK_PAGE_TOKEN: 'fb-page-token',
    INSTAGRAM_GRAPH_URL: platformUrl,
    INSTAGRAM_ACCESS_TOKEN: 'ig-token',
    X_API_URL: platformUrl,
    X_USER_TOKEN: 'x-token',
    LINKEDIN_API_URL: platformUrl,
    LINKEDIN_ACCESS_TOKEN: 'li-token',
    LINKEDIN_ORGANIZATION_URN: 'urn:li:organization:12345',
    WEBSITE_API_URL: platformUrl,
    WEBSITE_API_TOKEN: 'web-token',
    SMTP_URL: smtpUrl,
    SMTP_CA_FILE: testPki().caFile,
  }
}
