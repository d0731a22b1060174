using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace ConnText.Server.ApiDocs;

/// <summary>The OpenAPI document at <c>/openapi/v1.json</c> and the interactive reference at <c>/docs</c>.</summary>
internal static class ApiDocsSetup
{
    public const string OAuthScheme = "OAuth2";

    public static IServiceCollection AddApiDocs(this IServiceCollection services)
    {
        services.AddOpenApi("v1", options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "ConnText API",
                    Version = "v1",
                    Description = "REST API of a ConnText server. Every error is an RFC 9457 problem-details object " +
                                  "whose stable `type` is listed in docs/errors.md. Apps sign in with OAuth2 authorization code + PKCE " +
                                  "(OpenID Connect discovery at /.well-known/openid-configuration) and call the API with the access token.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[OAuthScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.OAuth2,
                    Description = "OAuth2 authorization code with PKCE (S256). Access tokens go in the Authorization: Bearer header.",
                    Flows = new OpenApiOAuthFlows
                    {
                        AuthorizationCode = new OpenApiOAuthFlow
                        {
                            AuthorizationUrl = new Uri("/connect/authorize", UriKind.Relative),
                            TokenUrl = new Uri("/connect/token", UriKind.Relative),
                            RefreshUrl = new Uri("/connect/token", UriKind.Relative),
                            Scopes = new Dictionary<string, string>
                            {
                                ["openid"] = "Sign in (OpenID Connect).",
                                ["profile"] = "Username and display name in the ID token.",
                                ["email"] = "E-mail address in the ID token.",
                                ["offline_access"] = "A refresh token.",
                                ["api"] = "Call the ConnText REST API and realtime hub.",
                            },
                        },
                    },
                };
                return Task.CompletedTask;
            });

            // Endpoints that require authorization carry the security requirement; anonymous ones do not.
            options.AddOperationTransformer((operation, context, _) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
                {
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement
                    {
                        [new OpenApiSecuritySchemeReference(OAuthScheme, context.Document)] = ["api"],
                    });
                    operation.Responses ??= [];
                    operation.Responses.TryAdd("401", new OpenApiResponse
                    {
                        Description = "No valid access token: missing, expired, or its session was revoked.",
                        Content = new Dictionary<string, OpenApiMediaType>
                        {
                            ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference("ProblemDetails", context.Document) },
                        },
                    });
                }

                // Any operation can fail unexpectedly; say what that looks like.
                operation.Responses ??= [];
                operation.Responses.TryAdd("500", new OpenApiResponse
                {
                    Description = "Unexpected error: a problem with type urn:conntext:problem:internal and a traceId.",
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference("ProblemDetails", context.Document) },
                    },
                });
                return Task.CompletedTask;
            });
        });
        return services;
    }

    public static void MapApiDocs(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOpenApi("/openapi/{documentName}.json");
        endpoints.MapScalarApiReference("/docs", options =>
        {
            options.Title = "ConnText API";
            options.OpenApiRoutePattern = "/openapi/{documentName}.json";
            // Self-hosted and offline: no calls to Scalar's cloud (telemetry, AI agent, hosted fonts).
            options.HideDeveloperTools().DisableTelemetry().DisableAgent().DisableDefaultFonts();
            options.AddPreferredSecuritySchemes(OAuthScheme);
        });
    }
}
