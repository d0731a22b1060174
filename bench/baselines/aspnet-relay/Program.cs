using ConnText.AspNetRelay;

// Two baselines for the hub fan-out benchmark, the same rooms and the same event as
// bench/baselines/ws-relay/relay.js (docs/performance.md, "Hub fan-out"):
//   /               a plain WebSocket per client (Kestrel's), relay.js's protocol byte for byte;
//   /hubs/relay     a SignalR hub with ConnText's SendMessage signature, fanning out through a SignalR group.
// A client names its room and user in the query string (?room=<id>&user=<id>). Nothing is stored or authenticated:
// the difference to ConnText is what authenticating, sequencing and storing (and ConnText's own dispatch) cost.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton<Rooms>();
builder.Services.AddSignalR(o => o.MaximumReceiveMessageSize = 100 * 1024).AddMessagePackProtocol();

var app = builder.Build();
app.UseWebSockets();
app.Map("/", WebSocketRelay.AcceptAsync);
app.MapHub<RelayHub>("/hubs/relay");
app.MapGet("/health", () => "ok");
app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine($"LISTENING {string.Join(' ', app.Urls)}"));
await app.RunAsync();
