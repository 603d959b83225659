import { type ReactNode, useEffect, useRef, useState } from 'react';

/**
 * Renders only the rows in view (plus a few), so 10,000 rooms scroll and
 * filter as fast as 10. Rows have one fixed height.
 */
export function VirtualList<T>({ items, rowHeight, render, label, activeIndex }: { items: readonly T[]; rowHeight: number; render(item: T, index: number): ReactNode; label: string; activeIndex: number }) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  useEffect(() => {
    const element = ref.current;
    if (!element || activeIndex < 0) return;
    const top = activeIndex * rowHeight;
    if (top < element.scrollTop) element.scrollTop = top;
    else if (top + rowHeight > element.scrollTop + element.clientHeight) element.scrollTop = top + rowHeight - element.clientHeight;
  }, [activeIndex, rowHeight]);
  const overscan = 8;
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(items.length, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  return (
    <div ref={ref} className="virtual-list" role="listbox" aria-label={label} onScroll={(event) => setScrollTop(event.currentTarget.scrollTop)}>
      <div style={{ height: items.length * rowHeight, position: 'relative' }}>
        {items.slice(first, last).map((item, offset) => (
          <div key={first + offset} style={{ position: 'absolute', top: (first + offset) * rowHeight, height: rowHeight, left: 0, right: 0 }}>
            {render(item, first + offset)}
          </div>
        ))}
      </div>
    </div>
  );
}
