using System.Text.Json.Serialization;

namespace PgWarden.Lab;

/// <summary>
/// lab.json's serializer, generated at compile time: the published pgwarden is trimmed, and reflection-based
/// serialization would find LabState's properties removed.
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(LabState))]
internal sealed partial class LabStateJson : JsonSerializerContext;
