/**
 * The few bytes the public listener answers with: a transparent GIF and three small HTML pages. No
 * scripts, no external resources, nothing about the recipient (the URL is all a scanner needs to see).
 */

/** 1×1 transparent GIF89a, 42 bytes. */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const STYLE = 'body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}button{font-size:1rem;padding:.5rem 1.25rem}';

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex,nofollow"><title>${title}</title><style>${STYLE}</style></head>
<body>${body}</body></html>
`;
}

/**
 * GET shows this and changes nothing: mail scanners and link previewers fetch every URL in a message.
 * The form posts the RFC 8058 body to the same URL, so a person and a mailbox provider take one path.
 */
export const CONFIRM_PAGE = page(
  'Unsubscribe',
  `<h1>Unsubscribe</h1><p>Stop receiving these emails at this address?</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
);

export const DONE_PAGE = page('Unsubscribed', '<h1>Unsubscribed</h1><p>This address will not receive these emails again.</p>');

export const NOT_FOUND_PAGE = page('Not found', '<h1>Not found</h1><p>This link is not valid.</p>');
