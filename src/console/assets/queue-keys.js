// @ts-check
// Keyboard shortcuts for the review queue (docs/console.md, "Keyboard"). Progressive enhancement:
// every shortcut does what a link, a radio button, a checkbox or a submit button on the page does,
// and the page works without this script. Type-checked with the DOM library (tsconfig.assets.json).

/** Whether a key press belongs to a field being typed in, which shortcuts must leave alone. */
function typing(/** @type {EventTarget | null} */ target) {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName) && !isChoice(target))
}

/** Radio buttons and checkboxes take no text: shortcuts stay on while one has focus. */
function isChoice(/** @type {HTMLElement} */ el) {
  return el instanceof HTMLInputElement && (el.type === 'radio' || el.type === 'checkbox')
}

/** @param {HTMLElement | null} el */
function press(el) {
  if (el) el.click()
}

/** On the list: j and k move between items, Enter opens (the link's own behaviour). */
function listKeys(/** @type {KeyboardEvent} */ event) {
  const links = /** @type {HTMLAnchorElement[]} */ ([...document.querySelectorAll('a[data-queue-index]')])
  if (links.length === 0) return false
  const at = links.findIndex((a) => a === document.activeElement)
  if (event.key === 'j') links[Math.min(at + 1, links.length - 1)]?.focus()
  else if (event.key === 'k') links[Math.max(at - 1, 0)]?.focus()
  else return false
  return true
}

/** On an item: a, h, r choose the decision; 1–9 cite a rule; c claims or releases; n goes to the next item; Ctrl+Enter records. */
function itemKeys(/** @type {KeyboardEvent} */ event) {
  const form = /** @type {HTMLFormElement | null} */ (document.querySelector('form[data-decision]'))
  if (!form) return false
  const decision = { a: 'approve', h: 'hide', r: 'remove' }[event.key]
  if (decision) {
    press(form.querySelector(`input[name="action"][value="${decision}"]`))
    return true
  }
  if (/^[1-9]$/.test(event.key)) {
    press(/** @type {HTMLElement | null} */ (form.querySelectorAll('input[name="ruleCodes"]')[Number(event.key) - 1] ?? null))
    return true
  }
  if (event.key === 'c') {
    press(document.querySelector('form[data-claim] button'))
    return true
  }
  if (event.key === 'n') {
    press(document.querySelector('a[data-next-item]'))
    return true
  }
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    form.requestSubmit()
    return true
  }
  return false
}

document.addEventListener('keydown', (event) => {
  if (event.altKey || typing(event.target)) return
  if ((event.ctrlKey || event.metaKey) && event.key !== 'Enter') return
  if (listKeys(event) || itemKeys(event)) event.preventDefault()
})
