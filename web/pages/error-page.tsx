/** A standalone error page (no chrome: it must render even when the session or status cannot be read). */
import { Document } from './document.tsx';

export interface ErrorPageProps {
  status: number;
  code: string;
  message: string;
  requestId: string | null;
}

export function ErrorPage(props: ErrorPageProps) {
  const title = props.status === 404 ? 'Not found' : `Error ${props.status}`;
  return (
    <Document title={title} cssHref="/static/app.css">
      <body>
        <main id="main" class="error-page">
          <h1>{title}</h1>
          <p>{props.message}</p>
          <p class="muted">
            Code <code>{props.code}</code>
            {props.requestId ? (
              <>
                {' '}
                · request id <code>{props.requestId}</code>
              </>
            ) : null}
          </p>
          <p>
            <a href="/">Back to the console</a>
          </p>
        </main>
      </body>
    </Document>
  );
}
