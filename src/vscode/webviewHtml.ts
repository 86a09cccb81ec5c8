import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** A fresh nonce for a webview's Content-Security-Policy. */
export function nonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

/**
 * The Content-Security-Policy of every webview of ours: nothing by default; scripts and inline
 * styles only with the page's nonce; styles, fonts and images only from the extension.
 */
export function contentSecurityPolicy(webview: vscode.Webview, pageNonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${webview.cspSource} 'nonce-${pageNonce}'`,
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `script-src 'nonce-${pageNonce}'`,
  ].join('; ');
}

/**
 * The HTML of one of our webviews: strict CSP (no inline script or style without the nonce, only
 * our own bundle, styles and the codicon font), `dist/webview/<name>.js` and `media/<name>.css`.
 */
export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, name: string, title: string, body = ''): string {
  const n = nonce();
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', `${name}.js`));
  const css = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', `${name}.css`));
  const codicons = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'codicon.css'));
  const csp = contentSecurityPolicy(webview, n);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${codicons.toString()}" nonce="${n}">
<link rel="stylesheet" href="${css.toString()}" nonce="${n}">
<title>${title}</title>
</head>
<body>
${body}
<script nonce="${n}" src="${script.toString()}"></script>
</body>
</html>`;
}

/** Options every panel of ours uses: scripts on, resources only from dist/webview and media. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    retainContextWhenHidden: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}
