using System.Net.Http.Headers;
using System.Text;
using PgWarden.Config;
using PgWarden.Dcs;

namespace PgWarden.Ctl;

/// <summary>
/// Calls a member's REST API (its api_url from the member key) as patronictl does: basic auth from
/// ctl.authentication else restapi.authentication, TLS per ctl.cacert/certfile/insecure (<see cref="Api.RestClientSettings"/>).
/// </summary>
public sealed class MemberApi(CtlContext context, bool insecure) : IDisposable
{
    private readonly HttpClient _http = context.RestHttp(insecure, Timeout.InfiniteTimeSpan);
    private readonly System.Net.Http.Headers.AuthenticationHeaderValue? _auth = context.RestAuth;

    public static string BaseUrl(MemberData member)
    {
        ArgumentNullException.ThrowIfNull(member);
        var api = member.ApiUrl ?? throw new InvalidOperationException("the member key has no api_url");
        var uri = new Uri(api);
        return $"{uri.Scheme}://{uri.Authority}";
    }

    public async Task<(int Code, string Body)> SendAsync(HttpMethod method, MemberData member, string path, string? json, TimeSpan timeout, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, BaseUrl(member) + path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        request.Headers.Authorization = _auth;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        using var response = await _http.SendAsync(request, cts.Token);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(cts.Token));
    }

    public void Dispose() => _http.Dispose();
}
