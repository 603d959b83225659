/** The console's CSP: only its own scripts and styles, its own WebSocket, media from WebRTC. */
export function contentSecurityPolicy(connectSrc: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "media-src 'self' blob: mediastream:",
    `connect-src 'self' ${connectSrc}`.trim(),
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** The page around the bundle; the CSP is also in a meta tag for Electron, where no server sends headers. */
export function rendererHtml(csp: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Roomlink</title>
<link rel="stylesheet" href="app.css">
</head>
<body>
<div id="root"></div>
<script type="module" src="app.js"></script>
</body>
</html>
`;
}
