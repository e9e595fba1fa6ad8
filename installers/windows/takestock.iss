; Takestock for Windows: an Inno Setup 6 script for the PyInstaller bundle.
;
;   iscc /DAppVersion=0.1.0 installers\windows\takestock.iss
;
; Installs for the current user only, without administrator rights, into
; %LOCALAPPDATA%\Programs\Takestock, with a Start-menu entry and an uninstaller (Apps &
; features). Uninstalling leaves the data folder (%LOCALAPPDATA%\Takestock: the library,
; the takes, the database) where it is.
;
; AppVersion: the release workflow reads it from pyproject.toml, the one place it is written.
; BundleDir: PyInstaller's onedir output (default: dist\takestock, as `make bundle` writes).
; OutputDir: where the setup program goes (default: dist).
; Relative paths are relative to this file.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z (from pyproject.toml)
#endif
#ifndef BundleDir
  #define BundleDir "..\..\dist\takestock"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif

[Setup]
; The AppId identifies the installation for upgrades and the uninstaller: never change it.
AppId={{14BC82D0-CECE-4D42-89E6-C1B8FF60CBB7}
AppName=Takestock
AppVersion={#AppVersion}
AppVerName=Takestock {#AppVersion}
AppPublisher=Takestock
; Per-user, no elevation: {autopf} is then %LOCALAPPDATA%\Programs.
PrivilegesRequired=lowest
DefaultDirName={autopf}\Takestock
DisableProgramGroupPage=yes
DisableDirPage=auto
OutputDir={#OutputDir}
OutputBaseFilename=takestock-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\resources\icons\takestock.ico
UninstallDisplayIcon={app}\takestock.exe
UninstallDisplayName=Takestock
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; Offer to close a running Takestock before its files are replaced.
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade replaces the bundle whole: files a newer version no longer ships must not linger.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
; takestockw.exe is the windowed build of takestock.exe: no console window beside the app.
Name: "{autoprograms}\Takestock"; Filename: "{app}\takestockw.exe"; WorkingDir: "{app}"; Comment: "Generate, compare and keep AI video takes"
Name: "{autodesktop}\Takestock"; Filename: "{app}\takestockw.exe"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\takestockw.exe"; Description: "{cm:LaunchProgram,Takestock}"; Flags: nowait postinstall skipifsilent
