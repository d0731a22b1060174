// Tells the host whether this window has the user's attention (so it does not notify about what the user is
// reading), and shows web notifications where the host cannot raise OS ones.
export function watch(dotnet) {
    const report = () => dotnet.invokeMethodAsync('ReportFocus', document.hasFocus() && document.visibilityState === 'visible');
    window.addEventListener('focus', report);
    window.addEventListener('blur', report);
    document.addEventListener('visibilitychange', report);
    report();
    return {
        dispose() {
            window.removeEventListener('focus', report);
            window.removeEventListener('blur', report);
            document.removeEventListener('visibilitychange', report);
        },
    };
}

export async function notify(dotnet, title, body, accountId, conversationId) {
    if (!('Notification' in window)) {
        return false;
    }
    if (Notification.permission === 'default') {
        await Notification.requestPermission();
    }
    if (Notification.permission !== 'granted') {
        return false;
    }
    const notification = new Notification(title, { body, tag: conversationId });
    notification.onclick = () => {
        window.focus();
        notification.close();
        dotnet.invokeMethodAsync('OpenFromNotification', accountId, conversationId);
    };
    return true;
}
