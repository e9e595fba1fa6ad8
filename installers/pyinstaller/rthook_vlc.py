"""PyInstaller runtime hook: tell python-vlc and libvlc where libvlc and its plugins are.

It runs in the bundled app before any of Takestock's code, and only sets what the user
has not set in the environment.

- Windows: the recipe copies ``libvlc.dll``, ``libvlccore.dll`` and ``plugins/`` from a
  VLC installation to ``<bundle>/vlc``. That folder goes first on ``PATH``, where
  python-vlc's ``find_library("libvlc.dll")`` looks, and ``VLC_PLUGIN_PATH`` names its
  plugins. Nothing is loaded here: start-up does not pay for libvlc.
- macOS: the recipe copies ``libvlc.dylib`` and ``libvlccore.dylib`` beside the app's
  other libraries and the plugins to ``<bundle>/vlc/plugins``. python-vlc would prefer
  ``/Applications/VLC.app`` (a different libvlc with our plugins: no), so the bundled
  pair is loaded here and named in ``PYTHON_VLC_LIB_PATH``; the variable is set only
  once the load worked, because python-vlc exits the process when that path fails.
- Linux: the package depends on the system's libvlc, and the spec keeps libvlc out of
  the bundle, so the system's libvlc loads and finds its own plugins; nothing is set
  (naming that same folder in ``VLC_PLUGIN_PATH`` would load every plugin twice:
  measured, 50 video filters become 100). Only if a libvlc was bundled after all does
  ``VLC_PLUGIN_PATH`` point at the system's plugins: without it libvlc starts with no
  plugins and ``vlc.Instance()`` returns None.
"""

import os
import sys


def _configure_vlc() -> None:
    bundle = getattr(sys, "_MEIPASS", os.path.dirname(sys.executable))
    plugins = os.path.join(bundle, "vlc", "plugins")
    if sys.platform == "win32" and os.path.isdir(plugins):
        vlc_dir = os.path.dirname(plugins)
        os.environ["PATH"] = vlc_dir + os.pathsep + os.environ.get("PATH", "")
        os.add_dll_directory(vlc_dir)
        os.environ.setdefault("VLC_PLUGIN_PATH", plugins)
    elif sys.platform == "darwin" and os.path.isdir(plugins):
        if "PYTHON_VLC_LIB_PATH" in os.environ:
            return
        import ctypes

        lib = os.path.join(bundle, "libvlc.dylib")
        try:
            ctypes.CDLL(os.path.join(bundle, "libvlccore.dylib"))
            ctypes.CDLL(lib)
        except OSError:
            return  # python-vlc tries the system's VLC next; the player falls back to Qt
        os.environ["PYTHON_VLC_LIB_PATH"] = lib
        os.environ.setdefault("PYTHON_VLC_MODULE_PATH", plugins)
        os.environ.setdefault("VLC_PLUGIN_PATH", plugins)
    elif sys.platform.startswith("linux") and os.path.exists(os.path.join(bundle, "libvlc.so.5")):
        multiarch = getattr(sys.implementation, "_multiarch", "")
        for libdir in (f"/usr/lib/{multiarch}", "/usr/lib64", "/usr/lib"):
            system_plugins = os.path.join(libdir, "vlc", "plugins")
            if os.path.isdir(system_plugins):
                os.environ.setdefault("VLC_PLUGIN_PATH", system_plugins)
                return


_configure_vlc()
del _configure_vlc
