// The policy engine: pure functions over immutable policy versions (no database, no HTTP).
export { AhoCorasick, type AhoCorasickOptions, type AhoMatch } from './aho-corasick.js'
export {
  compilePolicy,
  MAX_TERM_VARIANTS,
  PolicyCache,
  termVariants,
  type CompiledLinks,
  type CompiledPolicy,
  type CompiledPrivateInformation,
  type CompiledRegex,
  type CompiledRepetition,
  type CompiledTerms,
} from './compile.js'
export {
  DEFAULT_APPEAL_URL,
  DEFAULT_POLICY,
  DEFAULT_POLICY_DESCRIPTION,
  DEFAULT_POLICY_NAME,
  DEFAULT_POLICY_URL,
  defaultPolicy,
} from './default-policy.js'
export {
  DETECTOR_NAMES,
  DetectorText,
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
  type LinkMatch,
} from './detectors.js'
export { deepEqual, diffVersions, RULE_FIELDS, type RuleChange, type RuleField, type VersionDiff } from './diff.js'
export { evaluate, EVALUATOR_VERSION, MAX_EVIDENCE_PER_RULE, MAX_REGEX_HITS, type EvaluateInput } from './evaluate.js'
export {
  DIGIT,
  normalize,
  normalizeForComparison,
  normalizeTerm,
  SEP,
  SOFT,
  SOLO,
  WORD,
  type NormalizedText,
  type NormalizeMode,
} from './normalize.js'
export {
  NOTICE_PLACEHOLDERS,
  PLATFORM_DISPLAY_NAMES,
  renderNotice,
  templateProblems,
  type NoticePlaceholder,
  type NoticeVars,
  type TemplateProblem,
} from './notice.js'
export { ComparableText, textSimilarity } from './repetition.js'
export * from './rules.js'
