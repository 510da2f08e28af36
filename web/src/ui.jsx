// Small pieces every page uses.
export const Error_ = ({ error }) => (error ? <p class="error">{error.message}</p> : null);

export const Loading = ({ state }) => (state.error ? <Error_ error={state.error} /> : <p class="muted">Loading…</p>);

export const short = (text, n = 12) => (text && text.length > n ? text.slice(0, n) : text || '');

export const fmt = (value) =>
  typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toPrecision(4)) : String(value ?? '');

/// A two-column table of an object's entries.
export function Pairs({ value, id }) {
  const entries = Object.entries(value || {});
  if (!entries.length) return <p class="muted">none</p>;
  return (
    <table class="pairs" id={id}>
      <tbody>
        {entries.map(([k, v]) => (
          <tr>
            <th>{k}</th>
            <td>{typeof v === 'object' ? JSON.stringify(v) : fmt(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/// A table's header row of plain column names.
export const Head = ({ columns }) => (
  <thead>
    <tr>
      {columns.map((c) => (
        <th>{c}</th>
      ))}
    </tr>
  </thead>
);
