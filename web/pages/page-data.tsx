/**
 * Page data for the client script, in `<script type="application/json" id="page-data">` (the CSP forbids inline
 * scripts; a JSON block is data, not script). `<`, `>`, `&` and the JS line separators are escaped so no value
 * can close the element.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function PageData(props: { data: unknown }) {
  return <script type="application/json" id="page-data" dangerouslySetInnerHTML={{ __html: safeJson(props.data) }} />;
}
