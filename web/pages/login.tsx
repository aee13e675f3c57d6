/**
 * `/login`: username/password form posted as JSON by the client script (never a form submission, so the password
 * can reach neither a URL nor a urlencoded body the API would accept). One generic error; the retry time when rate
 * limited. A `#otp=<token>` fragment (bootstrap link) is consumed by the client script and cleared.
 */
import { Document } from './document.tsx';
import { PageData } from './page-data.tsx';

export interface LoginPageProps {
  assets: { css: string; js: string };
  /** Validated return path (`/…`, never `//…`). */
  next: string | null;
}

export function LoginPage(props: LoginPageProps) {
  return (
    <Document title="Log in" cssHref={props.assets.css} jsHref={props.assets.js}>
      <body>
        <main id="main" class="login">
          <h1>ghtrader</h1>
          <p class="muted">SHFE copper, gold and silver · operator console</p>
          <form id="login-form" method="post" action="/login" class="stack">
            <p id="login-error" class="form-error" role="alert" hidden />
            <label for="login-username">Username</label>
            <input
              id="login-username"
              name="username"
              autocomplete="username"
              autocapitalize="none"
              spellcheck={false}
              maxlength={64}
              required
              aria-describedby="login-error"
            />
            <label for="login-password">Password</label>
            <input
              id="login-password"
              name="password"
              type="password"
              autocomplete="current-password"
              maxlength={1024}
              required
              aria-describedby="login-error"
            />
            <button type="submit">Log in</button>
          </form>
          <p id="otp-status" role="status" hidden />
        </main>
        <PageData data={{ page: 'login', next: props.next }} />
      </body>
    </Document>
  );
}
