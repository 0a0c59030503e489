"""Stand-in for the part of python3-application's `application.configuration` that
python-xcaplib's `xcapclient3` imports (ConfigFile, ConfigSection, ConfigSetting).

python3-application is AG Projects' own library and is not packaged in Debian, so the tests put
this directory on PYTHONPATH after the real python3-xcaplib. It implements only what
xcapclient3 uses: a section class whose settings are class attributes with defaults, read from
an INI file (`~/.xcapclient.ini`) section, and iterable as (name, value) pairs.
Written for this project's tests; no code of python3-application is in it.
"""
import configparser

__all__ = ['ConfigFile', 'ConfigSection', 'ConfigSetting']


class ConfigSetting(object):
    """A setting with a type (a callable converting the file's text) and a default value."""

    def __init__(self, type=str, value=None):
        self.type = type
        self.value = value


class ConfigSectionType(type):
    """Turns the class attributes of a section into settings with their defaults."""

    def __new__(mcls, name, bases, namespace):
        settings = {}
        for base in bases:
            settings.update(getattr(base, '__settings__', {}))
        for key, value in list(namespace.items()):
            if key.startswith('_') or isinstance(value, (classmethod, staticmethod)):
                continue
            if isinstance(value, ConfigSetting):
                settings[key] = value
                namespace[key] = value.value
            elif not callable(value):
                settings[key] = ConfigSetting(type=type(value), value=value)
        namespace['__settings__'] = settings
        return super().__new__(mcls, name, bases, namespace)

    def __iter__(cls):
        return iter([(key, getattr(cls, key)) for key in cls.__settings__])


class ConfigSection(object, metaclass=ConfigSectionType):
    """Settings read from one section of a ConfigFile."""

    @classmethod
    def read(cls, cfgfile=None, section=None):
        if cfgfile is None or section is None:
            return
        for key, setting in cls.__settings__.items():
            value = cfgfile.get_setting(section, key)
            if value is not None:
                setattr(cls, key, setting.type(value) if setting.type is not None else value)


class ConfigFile(object):
    """An INI file; a missing file has no sections."""

    def __init__(self, filename):
        self.parser = configparser.RawConfigParser()
        self.parser.read(filename)

    def get_section(self, section):
        if not self.parser.has_section(section):
            return None
        return list(self.parser.items(section))

    def get_setting(self, section, setting):
        try:
            return self.parser.get(section, setting)
        except (configparser.NoSectionError, configparser.NoOptionError):
            return None
