using System.Buffers;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Jobs;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Realtime;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace ConnText.Benchmarks;

/// <summary>
/// The hub's per-message serialization: one <c>EventAppended</c> invocation carrying a message of 100
/// characters, written (server side, once per protocol for a whole group: SignalR caches the serialized
/// message across the group's connections) and parsed (client side, once per receiving connection) with the
/// JSON and the MessagePack hub protocols, as configured by the server (defaults).
/// </summary>
[SimpleJob(RuntimeMoniker.Net10_0, launchCount: 1, warmupCount: 3, iterationCount: 10)]
[MemoryDiagnoser]
public class HubSerializationBenchmarks
{
    private readonly JsonHubProtocol json = new();
    private readonly MessagePackHubProtocol messagePack = new();
    private readonly ArrayBufferWriter<byte> buffer = new(4096);
    private readonly Binder binder = new();
    private InvocationMessage message = null!;
    private byte[] jsonBytes = [];
    private byte[] messagePackBytes = [];

    [GlobalSetup]
    public void Setup()
    {
        var conversation = Guid.CreateVersion7();
        var sender = Guid.CreateVersion7();
        var messageId = Guid.CreateVersion7();
        var at = new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);
        var text = new string('x', 100);
        var stored = new MessageResponse(messageId, conversation, 42, MessageKinds.Text, sender, Guid.NewGuid(), text, null, null, null,
            at, null, null, [], [], []);
        message = new InvocationMessage("EventAppended",
            [new EventAppendedEvent(conversation, 42, ConversationEventKinds.MessageCreated, sender, at, messageId, stored, null, null)]);
        jsonBytes = json.GetMessageBytes(message).ToArray();
        messagePackBytes = messagePack.GetMessageBytes(message).ToArray();
        Console.WriteLine($"// frame sizes: JSON {jsonBytes.Length} bytes, MessagePack {messagePackBytes.Length} bytes");
    }

    [Benchmark(Baseline = true)]
    public int Write_Json()
    {
        buffer.ResetWrittenCount();
        json.WriteMessage(message, buffer);
        return buffer.WrittenCount;
    }

    [Benchmark]
    public int Write_MessagePack()
    {
        buffer.ResetWrittenCount();
        messagePack.WriteMessage(message, buffer);
        return buffer.WrittenCount;
    }

    [Benchmark]
    public HubMessage? Parse_Json()
    {
        var input = new ReadOnlySequence<byte>(jsonBytes);
        json.TryParseMessage(ref input, binder, out var parsed);
        return parsed;
    }

    [Benchmark]
    public HubMessage? Parse_MessagePack()
    {
        var input = new ReadOnlySequence<byte>(messagePackBytes);
        messagePack.TryParseMessage(ref input, binder, out var parsed);
        return parsed;
    }

    /// <summary>What a client's <c>On&lt;EventAppendedEvent&gt;("EventAppended", …)</c> tells the protocol.</summary>
    private sealed class Binder : IInvocationBinder
    {
        public IReadOnlyList<Type> GetParameterTypes(string methodName) => [typeof(EventAppendedEvent)];

        public Type GetReturnType(string invocationId) => typeof(object);

        public Type GetStreamItemType(string streamId) => typeof(object);
    }
}
