/** Text made safe to place in HTML content or a quoted attribute (every page and email the services write). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}
