/** The HTML document shell shared by every page: doctype, language, viewport, stylesheet and client script. */

import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';

export interface DocumentProps {
  title: string;
  cssHref: string;
  /** Omitted on pages that need no client script (error pages). */
  jsHref?: string;
  children?: Child;
}

export function Document(props: DocumentProps) {
  return (
    <>
      {raw('<!doctype html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{`${props.title} · ghtrader`}</title>
          <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
          <link rel="stylesheet" href={props.cssHref} />
          {props.jsHref ? <script src={props.jsHref} defer /> : null}
        </head>
        {props.children}
      </html>
    </>
  );
}
