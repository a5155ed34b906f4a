namespace PgWarden.Postgres;

/// <summary>Placeholder until the Postgres branch lands (it owns this file).</summary>
public static class SlotNames
{
    public static string FromMemberName(string name) => name.ToLowerInvariant().Replace('-', '_').Replace('.', '_');
}
