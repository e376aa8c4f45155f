// Page buttons under a paged list: "1–20 of 57", previous / next, and the page size.
import { formatNumber } from '../format';

interface PaginationProps {
  page: number;
  pageSize: number;
  total: number;
  onPage: (page: number) => void;
  onPageSize: (pageSize: number) => void;
  sizes?: number[];
}

export function Pagination({ page, pageSize, total, onPage, onPageSize, sizes = [10, 20, 50, 100] }: PaginationProps) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const first = total === 0 ? 0 : (page - 1) * pageSize + 1;
  const last = Math.min(total, page * pageSize);
  return (
    <nav className="pagination" aria-label="Pages" data-testid="pagination">
      <span className="pagination-range" data-testid="pagination-range">
        {formatNumber(first)}–{formatNumber(last)} of {formatNumber(total)}
      </span>
      <label className="pagination-size">
        <span>Rows per page</span>
        <select value={pageSize} onChange={(event) => onPageSize(Number(event.target.value))} data-testid="page-size">
          {sizes.map((size) => (
            <option key={size} value={size}>
              {size}
            </option>
          ))}
        </select>
      </label>
      <div className="pagination-buttons">
        <button type="button" className="button button-secondary button-small" onClick={() => onPage(page - 1)} disabled={page <= 1} data-testid="page-prev">
          Previous
        </button>
        <span className="pagination-page" aria-current="page">
          Page {page} of {pages}
        </span>
        <button type="button" className="button button-secondary button-small" onClick={() => onPage(page + 1)} disabled={page >= pages} data-testid="page-next">
          Next
        </button>
      </div>
    </nav>
  );
}
