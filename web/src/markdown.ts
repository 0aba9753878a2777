// Markdown for wiki pages, rendered safely: raw HTML is shown as text (never parsed, so a <script> in
// a page is only ever words), images are off (the CSP would refuse outside ones anyway), and a link
// survives only if it is http(s), mailto, or a path to a page, document or folder of this app.
import MarkdownIt from "markdown-it";

const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false });
markdown.disable(["image"]);

const internalPath = /^\/(pages|documents|folders)\/[A-Za-z0-9_-]{1,64}(#[\w-]*)?$/;

export function isSafeLink(href: string): boolean {
  const url = href.trim();
  if (internalPath.test(url) || /^#[\w-]*$/.test(url)) return true;
  if (/^mailto:[^\s/]+@[^\s/]+$/i.test(url)) return true;
  if (!/^https?:\/\/[^\s/\\]/i.test(url)) return false;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:";
  } catch {
    return false;
  }
}

markdown.validateLink = isSafeLink;

const renderToken = markdown.renderer.renderToken.bind(markdown.renderer);
markdown.renderer.rules.link_open = (tokens, index, options) => {
  const token = tokens[index]!;
  const href = String(token.attrGet("href") ?? "");
  // Outside links open in a new tab that gets no handle on this one and no referrer.
  if (/^(https?|mailto):/i.test(href)) {
    token.attrSet("target", "_blank");
    token.attrSet("rel", "noopener noreferrer nofollow");
  }
  return renderToken(tokens, index, options);
};

export function renderMarkdown(text: string): string {
  return markdown.render(text);
}

/** For a click inside rendered Markdown: the app path of an internal link, to follow without a reload. */
export function internalLinkOf(target: EventTarget | null): string | undefined {
  const anchor = target instanceof Element ? target.closest("a") : null;
  const href = anchor?.getAttribute("href") ?? "";
  return internalPath.test(href) ? href : undefined;
}
