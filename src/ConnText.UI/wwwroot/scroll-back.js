// Infinite scroll back through history: when the top of the history (a sentinel above the oldest message shown)
// comes near the view, the chat view loads the next older page; again while it stays in view and there is more.
// The scroller is column-reverse, so content added above keeps the view where the reader is.

// Returns null when the sentinel is already gone (the view changed between the render and this call); the chat view
// then tries again after its next render.
export function observe(sentinel, dotnet) {
    if (!sentinel?.isConnected) return null;
    const root = sentinel.closest('.scroller');
    let busy = false;
    const near = () => {
        const top = sentinel.getBoundingClientRect(), view = root.getBoundingClientRect();
        return sentinel.isConnected && top.bottom >= view.top - 200 && top.top <= view.bottom;
    };
    const load = async () => {
        if (busy) return;
        busy = true;
        try {
            // One page at a time; after each, a moment for the page to render before looking again.
            while (near() && await dotnet.invokeMethodAsync('LoadOlderFromScroll')) {
                await new Promise(resolve => setTimeout(resolve, 150));
            }
        } catch (e) {
            console.warn('scroll-back: loading older messages failed', e);
        } finally {
            busy = false;
        }
    };
    const observer = new IntersectionObserver(entries => {
        if (entries.some(e => e.isIntersecting)) load();
    }, { root, rootMargin: '200px 0px 0px 0px' });
    observer.observe(sentinel);
    return { dispose: () => observer.disconnect() };
}
