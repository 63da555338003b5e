{
  description = "airsick: how likely am I to be sick tomorrow from the air I breathe? (dlt, dbt-duckdb, Prefect, MLflow, marimo)";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      # The uv that wrote uv.lock (CI installs the same with pip); nixpkgs' own is older.
      uvVersion = "0.13.9";
    in
    {
      # `nix develop`: Python, uv and the tools the README's two commands and the tests use.
      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = [
            pkgs.python311
            pkgs.gnumake
            pkgs.git
            pkgs.postgresql_15 # the deployed topology's test runs a real PostgreSQL
          ] ++ pkgs.lib.optionals pkgs.stdenv.isLinux [
            pkgs.chromium # the browser tests drive it through Playwright
          ];

          # Wheels from PyPI (DuckDB, NumPy, ...) expect these libraries on Linux.
          LD_LIBRARY_PATH = pkgs.lib.optionalString pkgs.stdenv.isLinux
            (pkgs.lib.makeLibraryPath [ pkgs.stdenv.cc.cc.lib pkgs.zlib ]);
          UV_PYTHON = "${pkgs.python311}/bin/python3.11";
          UV_PYTHON_DOWNLOADS = "never";

          shellHook = ''
            tools="$PWD/.nix-tools"
            if [ ! -x "$tools/bin/uv" ] || [ "$("$tools/bin/uv" --version | cut -d' ' -f2)" != "${uvVersion}" ]; then
              ${pkgs.python311}/bin/python3.11 -m venv "$tools"
              "$tools/bin/pip" install --quiet "uv==${uvVersion}"
            fi
            export PATH="$tools/bin:$PATH"
            echo "airsick dev shell: make demo (the main job), make test (every test)"
          '';
        };
      });
    };
}
