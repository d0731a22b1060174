// Brings a message (a search result) into view; the chat view highlights it.
export function scrollToMessage(id) {
    const element = document.querySelector(`[data-message-id="${CSS.escape(id)}"]`);
    if (element) {
        element.scrollIntoView({ block: "center" });
    }
}
