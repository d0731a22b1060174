// Brings a message (a search result) to the middle of its scrolling pane; the chat view highlights it.
// Computed from the pane's geometry rather than scrollIntoView, which is unreliable in a column-reverse pane, and
// repeated on the next frames in case the layout was still settling.
export function scrollToMessage(id) {
    const scroll = () => {
        const element = document.querySelector(`[data-message-id="${CSS.escape(id)}"]`);
        const pane = element?.closest(".scroller");
        if (!element || !pane) {
            return;
        }

        const target = element.getBoundingClientRect();
        const box = pane.getBoundingClientRect();
        pane.scrollTop += (target.top + target.height / 2) - (box.top + box.height / 2);
    };
    scroll();
    requestAnimationFrame(scroll);
    setTimeout(scroll, 150);
}
