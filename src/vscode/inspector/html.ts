import * as vscode from 'vscode';
import { contentSecurityPolicy, nonce } from '../webviewHtml';

/** Folders the inspector webview may load from. */
export function inspectorResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')];
}

/**
 * The inspector page: a strict CSP (nothing inline; scripts only with this page's nonce; styles,
 * fonts and images only from the extension), the codicon font and our stylesheet.
 */
export function inspectorHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const n = nonce();
  const uri = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...p)).toString();
  const csp = contentSecurityPolicy(webview, n);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${uri('dist', 'webview', 'codicon.css')}">
<link rel="stylesheet" href="${uri('media', 'inspector.css')}">
<title>LwM2M Payload Inspector</title>
</head>
<body>
<div id="app" class="app" aria-busy="true"><div class="loading"><span class="codicon codicon-loading codicon-modifier-spin"></span> Decoding…</div></div>
<script nonce="${n}" src="${uri('dist', 'webview', 'inspector.js')}"></script>
</body>
</html>`;
}
